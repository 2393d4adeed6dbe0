"""Request validation beyond the schema, with the real API's messages where they are known.

Observed verbatim: `invalid_model` (name quoted), the message-order and last-message texts
(`invalid_message`) and `max_tokens must be at least 16 for sonar.` (`invalid_parameter`).
Every other message is the mock's own wording in the same envelope.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from contract.schemas import ChatCompletionRequest, ResponseFormatJSONSchema, ResponseFormatRegex, SearchRequest
from contract.schemas.chat import URL, ChatMessageInput, ImagePart, SearchFilterFields
from contract.schemas.search import MAX_QUERIES, MAX_RESULTS
from mock_server import structured
from mock_server.catalog import MODELS, ModelSpec
from mock_server.errors import MockAPIError, invalid_message, invalid_model, invalid_parameter, invalid_request

ALTERNATION_MESSAGE = (
    "After the (optional) system message(s), user or tool message(s) should alternate with assistant message(s)."
)
LAST_MESSAGE_MESSAGE = "Last message must have role `user`."
MIN_MAX_TOKENS = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
IMAGE_MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
_DATA_URI = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
_DATE_FIELDS = (
    "search_after_date_filter",
    "search_before_date_filter",
    "last_updated_after_filter",
    "last_updated_before_filter",
)


def parse_chat_request(payload: Any) -> tuple[ChatCompletionRequest, ModelSpec]:
    """Validate a decoded JSON body; raise the API's 400 for the first problem found."""
    if not isinstance(payload, dict):
        raise invalid_request("Request body must be a JSON object.")
    model = payload.get("model")
    if model is None:
        raise invalid_request("Missing required field: model.")
    if not isinstance(model, str) or model not in MODELS:
        raise invalid_model(model if isinstance(model, str) else json.dumps(model))
    try:
        request = ChatCompletionRequest.model_validate(payload)
    except ValidationError as exc:
        raise _from_validation_error(exc, payload) from None
    spec = MODELS[model]
    check_messages(request.messages)
    check_parameters(request, spec)
    return request, spec


def parse_search_request(payload: Any) -> SearchRequest:
    """Validate a decoded `POST /search` body; raise the API's 400 for the first problem found."""
    if not isinstance(payload, dict):
        raise invalid_request("Request body must be a JSON object.")
    _check_query(payload.get("query"), "query" in payload)
    try:
        request = SearchRequest.model_validate(payload)
    except ValidationError as exc:
        raise _from_validation_error(exc, payload) from None
    check_search_parameters(request)
    if request.max_results > MAX_RESULTS and request.search_type != "people":
        # The schema allows the people search's larger pages; every other search stops at 20.
        raise invalid_parameter(f"Invalid value for max_results: Input should be less than or equal to {MAX_RESULTS}.")
    return request


def check_search_parameters(request: SearchRequest) -> None:
    _check_dates(request)
    _check_domains(request.search_domain_filter)


def _check_query(query: Any, given: bool) -> None:
    # Checked by hand: the schema's string-or-list union would report both branches' complaints.
    if not given:
        raise invalid_request("Missing required field: query.")
    queries = query if isinstance(query, list) else [query]
    if not all(isinstance(item, str) for item in queries):
        raise invalid_parameter(f"query must be a string or a list of up to {MAX_QUERIES} strings.")
    if not 1 <= len(queries) <= MAX_QUERIES:
        raise invalid_parameter(f"query must hold between 1 and {MAX_QUERIES} queries, got {len(queries)}.")
    if any(not item.strip() for item in queries):
        raise invalid_parameter("query must not be blank.")


def check_messages(messages: list[ChatMessageInput]) -> None:
    index = 0
    while index < len(messages) and messages[index].role == "system":
        index += 1
    previous: str | None = None
    for message in messages[index:]:
        if message.role == "system":
            raise invalid_message(ALTERNATION_MESSAGE)
        side = "assistant" if message.role == "assistant" else "user"
        # Several tool results in a row answer one assistant turn.
        if side == previous and not (message.role == "tool" and previous == "user"):
            raise invalid_message(ALTERNATION_MESSAGE)
        previous = side
    if previous != "user":
        raise invalid_message(LAST_MESSAGE_MESSAGE)


def check_parameters(request: ChatCompletionRequest, spec: ModelSpec) -> None:
    if request.max_tokens is not None and request.max_tokens < MIN_MAX_TOKENS:
        raise invalid_parameter(f"max_tokens must be at least {MIN_MAX_TOKENS} for {spec.name}.")
    _check_dates(request)
    _check_domains(request.search_domain_filter)
    _check_images(request, spec)
    _check_response_format(request, spec)
    options = request.web_search_options
    # The pricing page: Pro Search "requires stream: true". The real answer to a non-streamed
    # request is undocumented; the mock rejects it rather than silently billing a fast search.
    pro_search = options is not None and options.search_type in {"pro", "auto"} and spec.supports_pro_search
    if pro_search and not request.stream:
        assert options is not None
        raise invalid_parameter(f"web_search_options.search_type '{options.search_type}' requires stream: true.")


def _check_dates(request: SearchFilterFields) -> None:
    dates: dict[str, datetime.date] = {}
    for field in _DATE_FIELDS:
        value = getattr(request, field)
        if value is None:
            continue
        month, day, year = (int(part) for part in value.split("/"))
        try:
            dates[field] = datetime.date(year, month, day)
        except ValueError:
            raise invalid_parameter(f"{field} is not a valid date: {value!r}. Use MM/DD/YYYY.") from None
    if request.search_recency_filter is not None and (
        "search_after_date_filter" in dates or "search_before_date_filter" in dates
    ):
        raise invalid_parameter(
            "search_recency_filter cannot be combined with search_after_date_filter or search_before_date_filter."
        )
    for after, before in (("search_after_date_filter", "search_before_date_filter"), _DATE_FIELDS[2:]):
        if after in dates and before in dates and dates[after] > dates[before]:
            raise invalid_parameter(f"{after} must not be later than {before}.")


def _check_domains(domains: list[str] | None) -> None:
    for entry in domains or ():
        if not entry.strip().lstrip("-").strip():
            raise invalid_parameter(f"search_domain_filter contains an empty domain: {entry!r}.")


def _images(messages: list[ChatMessageInput]) -> Iterator[str]:
    for message in messages:
        if isinstance(message.content, list):
            for part in message.content:
                if isinstance(part, ImagePart):
                    yield part.image_url.url if isinstance(part.image_url, URL) else part.image_url


def _check_images(request: ChatCompletionRequest, spec: ModelSpec) -> None:
    images = list(_images(request.messages))
    if not images:
        return
    if not spec.accepts_images:
        raise invalid_parameter(f"{spec.name} does not accept image input.")
    if isinstance(request.response_format, ResponseFormatRegex):
        raise invalid_parameter("Images cannot be combined with a regex response_format.")
    for url in images:
        if url.startswith("https://"):
            continue
        match = _DATA_URI.match(url)
        if match is None or match["media"] not in IMAGE_MEDIA_TYPES:
            raise invalid_parameter(
                "image_url must be an HTTPS URL or a base64 data URI of type " + ", ".join(IMAGE_MEDIA_TYPES) + "."
            )
        if len(match["data"]) * 3 // 4 > MAX_IMAGE_BYTES:
            raise invalid_parameter("Image exceeds the 50 MB limit.")
        try:
            base64.b64decode(match["data"], validate=True)
        except binascii.Error:
            raise invalid_parameter("image_url data URI is not valid base64.") from None


def _check_response_format(request: ChatCompletionRequest, spec: ModelSpec) -> None:
    response_format = request.response_format
    if isinstance(response_format, ResponseFormatJSONSchema):
        try:
            structured.check_json_schema(response_format.json_schema.schema_)
        except structured.UnsupportedSchema as exc:
            raise invalid_parameter(f"Unsupported json_schema in response_format: {exc}") from None
    elif isinstance(response_format, ResponseFormatRegex):
        if not spec.supports_regex:
            raise invalid_parameter(f"response_format type 'regex' is not supported for {spec.name}; use sonar.")
        try:
            structured.check_regex(response_format.regex.regex)
        except structured.UnsupportedRegex as exc:
            raise invalid_parameter(f"Unsupported regex in response_format: {exc}") from None


def _from_validation_error(exc: ValidationError, payload: Any) -> MockAPIError:
    """The API's 400 for the error that got furthest into `payload`, the body that failed.

    A value that may take several forms (a message's `content`: a string or a list of parts) fails
    once per form; the form that got furthest is the one the client meant, so its error is named.
    """
    located = [(_path_in(payload, error), error) for error in exc.errors(include_url=False)]
    path, error = max(located, key=lambda item: len(item[0]))
    location = ".".join(str(part) for part in path)
    top = str(path[0]) if path else ""
    if error["type"] == "missing":
        text = f"Missing required field: {location}."
    else:
        text = f"Invalid value for {location}: {error['msg']}."
    return invalid_message(text) if top == "messages" else invalid_parameter(text)


def _path_in(payload: Any, error: ErrorDetails) -> list[str | int]:
    """The error's location as keys and indexes of `payload`: pydantic's own location also names
    the form it was trying (`str`, `list[...]`, a part's `type`), which is no place in the body."""
    path: list[str | int] = []
    value = payload
    for part in error["loc"]:
        in_object = isinstance(value, dict) and part in value
        in_array = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if in_object or in_array:
            value = value[part]
            path.append(part)
    if error["type"] == "missing" and error["loc"]:
        path.append(error["loc"][-1])  # the field that is not there
    return path
