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
from contract.schemas.search import SearchPage, SearchRequest, SearchResponse

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
    "SearchPage",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "Usage",
    "WebSearchOptions",
]
