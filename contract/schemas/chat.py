"""Chat completions: request body, response body and stream chunks.

Written from the newest first-party schema (docs fragment `ApiChatCompletionsRequest`, 2026),
the official SDK's types (perplexityai 0.46) and real responses. Request models ignore unknown
fields, as the real API does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

SONAR_MODELS = ("sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research")

Role = Literal["system", "user", "assistant", "tool"]
SearchContextSize = Literal["low", "medium", "high"]
RecencyFilter = Literal["hour", "day", "week", "month", "year"]
SearchMode = Literal["web", "academic", "sec"]

# MM/DD/YYYY with optional leading zeros, as the docs give it.
DATE_FILTER_PATTERN = r"^(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/\d{4}$"
DateFilter = Annotated[str, Field(pattern=DATE_FILTER_PATTERN)]


class _Request(BaseModel):
    # Unknown fields are ignored, as the real API does; known ones must have their declared JSON
    # type (`"true"` is not a boolean, `"16"` not an integer), as the OpenAPI document says.
    # `NaN` and `Infinity` are not JSON numbers (RFC 8259), though Python's parser reads them.
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)


# -- message content ---------------------------------------------------------------------------


class URL(_Request):
    url: str


class VideoURL(_Request):
    url: str
    frame_interval: str | int = 25


class TextPart(_Request):
    type: Literal["text"]
    text: str


class ImagePart(_Request):
    type: Literal["image_url"]
    image_url: URL | str


class FilePart(_Request):
    type: Literal["file_url"]
    file_url: URL | str
    file_name: str | None = None


class PDFPart(_Request):
    type: Literal["pdf_url"]
    pdf_url: URL | str


class VideoPart(_Request):
    type: Literal["video_url"]
    video_url: VideoURL | str


ContentPart = Annotated[TextPart | ImagePart | FilePart | PDFPart | VideoPart, Field(discriminator="type")]


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCall | None = None


class WebSearchStep(BaseModel):
    search_keywords: list[str] | None = None
    search_results: list[SearchResult] | None = None


class FetchURLContentStep(BaseModel):
    contents: list[SearchResult] | None = None


class ExecutePythonStep(BaseModel):
    code: str
    result: str


class ReasoningStep(BaseModel):
    thought: str
    type: str | None = None
    web_search: WebSearchStep | None = None
    fetch_url_content: FetchURLContentStep | None = None
    execute_python: ExecutePythonStep | None = None


class ChatMessageInput(_Request):
    role: Role
    content: str | list[ContentPart] | None
    reasoning_steps: list[ReasoningStep] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


# -- request options ---------------------------------------------------------------------------


class JSONSchemaSpec(_Request):
    schema_: dict[str, Any] = Field(alias="schema")
    name: str = "schema"
    description: str | None = None
    strict: bool = True


class ResponseFormatText(_Request):
    type: Literal["text"]


class ResponseFormatJSONSchema(_Request):
    type: Literal["json_schema"]
    json_schema: JSONSchemaSpec


class RegexSpec(_Request):
    regex: str
    name: str | None = None
    description: str | None = None
    strict: bool | None = None


class ResponseFormatRegex(_Request):
    type: Literal["regex"]
    regex: RegexSpec


ResponseFormat = Annotated[
    ResponseFormatText | ResponseFormatJSONSchema | ResponseFormatRegex, Field(discriminator="type")
]


class UserLocation(_Request):
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    city: str | None = None
    region: str | None = None


class WebSearchOptions(_Request):
    search_context_size: SearchContextSize = "low"
    search_type: Literal["fast", "pro", "auto"] | None = None
    user_location: UserLocation | None = None
    image_results_enhanced_relevance: bool = False


class FunctionSpec(_Request):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolSpec(_Request):
    type: Literal["function"]
    function: FunctionSpec


class StreamOptions(_Request):
    include_usage: bool = True


class SearchFilterFields(_Request):
    """The search filters chat completions and the Search API share, with the same limits."""

    search_mode: SearchMode | None = None
    search_domain_filter: list[Annotated[str, Field(max_length=253)]] | None = Field(default=None, max_length=20)
    search_language_filter: list[Annotated[str, Field(pattern=r"^[a-zA-Z]{2}$")]] | None = Field(
        default=None, max_length=20
    )
    search_recency_filter: RecencyFilter | None = None
    search_after_date_filter: DateFilter | None = None
    search_before_date_filter: DateFilter | None = None
    last_updated_after_filter: DateFilter | None = None
    last_updated_before_filter: DateFilter | None = None


class ChatCompletionRequest(SearchFilterFields):
    # A plain string so that an unknown name reaches the handler and gets the real
    # `invalid_model` body; the document still lists the permitted names.
    model: Annotated[str, WithJsonSchema({"type": "string", "enum": list(SONAR_MODELS)})]
    messages: list[ChatMessageInput] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, gt=0, le=128000)
    stream: bool | None = False
    stream_mode: Literal["full", "concise"] = "full"
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0, le=2048)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    n: int | None = Field(default=None, ge=1, le=10)
    response_format: ResponseFormat | None = None
    web_search_options: WebSearchOptions | None = None
    return_images: bool | None = None
    image_format_filter: list[str] | None = None
    image_domain_filter: list[str] | None = None
    num_images: int | None = Field(default=None, ge=1, le=50)
    num_search_results: int | None = Field(default=None, ge=1, le=50)
    return_related_questions: bool | None = None
    enable_search_classifier: bool | None = None
    disable_search: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    language_preference: str | None = None
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["none", "auto", "required"] | None = None
    parallel_tool_calls: bool | None = None


# -- response ----------------------------------------------------------------------------------


class SearchResult(BaseModel):
    title: str
    url: str
    date: str | None = None
    last_updated: str | None = None
    snippet: str = ""
    source: Literal["web", "attachment"] = "web"


class ImageResult(BaseModel):
    image_url: str
    origin_url: str
    title: str
    width: int
    height: int


class Cost(BaseModel):
    input_tokens_cost: float
    output_tokens_cost: float
    total_cost: float
    citation_tokens_cost: float | None = None
    reasoning_tokens_cost: float | None = None
    request_cost: float | None = None
    search_queries_cost: float | None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # Required: the official SDK (0.46) rejects a usage object without it under strict validation.
    cost: Cost
    search_context_size: str | None = None
    citation_tokens: int | None = None
    num_search_queries: int | None = None
    reasoning_tokens: int | None = None


class ChatMessageOutput(BaseModel):
    role: Role
    content: str | None = None
    reasoning_steps: list[ReasoningStep] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class Choice(BaseModel):
    index: int
    finish_reason: Literal["stop", "length"] | None = None
    message: ChatMessageOutput
    delta: ChatMessageOutput


class ChatCompletion(BaseModel):
    """A chat completion, and equally one stream chunk: the API sends the same object shape."""

    id: str
    model: str
    created: int
    object: str = "chat.completion"
    choices: list[Choice]
    usage: Usage | None = None
    citations: list[str] | None = None
    search_results: list[SearchResult] | None = None
    images: list[ImageResult] | None = None
    related_questions: list[str] | None = None
    status: Literal["PENDING", "COMPLETED"] | None = None
    type: Literal["message", "info", "end_of_stream"] | None = None


# The stream's `object` values: `chat.completion` in the default mode (observed), four kinds in
# `stream_mode: "concise"` (documented).
CONCISE_CHUNK_OBJECTS = ("chat.reasoning", "chat.reasoning.done", "chat.completion.chunk", "chat.completion.done")

WebSearchStep.model_rebuild()
FetchURLContentStep.model_rebuild()
