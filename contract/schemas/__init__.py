"""The API's schema as pydantic models: the single source of truth for requests and responses."""

from contract.schemas.async_jobs import (
    AsyncChatCompletionJob,
    AsyncChatCompletionList,
    AsyncChatCompletionListQuery,
    AsyncChatCompletionRequest,
    AsyncChatCompletionSummary,
    JobStatus,
)
from contract.schemas.chat import (
    CONCISE_CHUNK_OBJECTS,
    SONAR_MODELS,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageInput,
    ChatMessageOutput,
    Choice,
    Cost,
    ImageResult,
    ReasoningStep,
    ResponseFormatJSONSchema,
    ResponseFormatRegex,
    SearchResult,
    Usage,
    WebSearchOptions,
)
from contract.schemas.errors import ErrorDetail, ErrorResponse

__all__ = [
    "CONCISE_CHUNK_OBJECTS",
    "SONAR_MODELS",
    "AsyncChatCompletionJob",
    "AsyncChatCompletionList",
    "AsyncChatCompletionListQuery",
    "AsyncChatCompletionRequest",
    "AsyncChatCompletionSummary",
    "ChatCompletion",
    "ChatCompletionRequest",
    "ChatMessageInput",
    "ChatMessageOutput",
    "Choice",
    "Cost",
    "ErrorDetail",
    "ErrorResponse",
    "ImageResult",
    "JobStatus",
    "ReasoningStep",
    "ResponseFormatJSONSchema",
    "ResponseFormatRegex",
    "SearchResult",
    "Usage",
    "WebSearchOptions",
]
