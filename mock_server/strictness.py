"""Spec strictness: every request the OpenAPI document allows gets a schema-valid success.

With `strictness = "spec"` a chat request is still checked against the schema (types, required
fields, ranges), but not against the API's own rules: message order, `max_tokens` ≥ 16, the
model-specific and date rules. A model the mock does not know is answered as `sonar`, echoing the
requested name. A request whose extra parameters the API would refuse is answered without them.
A search is checked against the schema only; filters the API would refuse are left out. Numbers
are read as JSON Schema reads them: `15.0` is an integer.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pydantic import ValidationError

from contract.schemas import ChatCompletionRequest, SearchRequest
from contract.schemas.async_jobs import ASYNC_MODELS
from mock_server.catalog import MODELS, ModelSpec
from mock_server.completion import synthesize_completion
from mock_server.errors import MockAPIError, invalid_model, invalid_request
from mock_server.state import MockState
from mock_server.validation import (
    _from_validation_error,
    check_parameters,
    check_search_parameters,
    parse_chat_request,
    parse_search_request,
)

FALLBACK_MODEL = "sonar"
# What a relaxed request is answered without: the parameters the API's own rules may refuse.
WAIVED_FIELDS = (
    "max_tokens",
    "response_format",
    "search_domain_filter",
    "search_recency_filter",
    "search_after_date_filter",
    "search_before_date_filter",
    "last_updated_after_filter",
    "last_updated_before_filter",
    "web_search_options",
)
# What a search the API would refuse is answered without: its filters.
WAIVED_SEARCH_FIELDS = (
    "search_domain_filter",
    "search_recency_filter",
    "search_after_date_filter",
    "search_before_date_filter",
    "last_updated_after_filter",
    "last_updated_before_filter",
)


def json_numbers(value: Any) -> Any:
    """`value` with every integral float made an int: JSON Schema's `integer` accepts `15.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    return value


def parse_chat(state: MockState, payload: Any) -> tuple[ChatCompletionRequest, ModelSpec]:
    """`parse_chat_request` under the configured strictness."""
    if state.settings.strictness == "faithful":
        return parse_chat_request(payload)
    if not isinstance(payload, dict):
        raise invalid_request("Request body must be a JSON object.")
    model = payload.get("model")
    if model is None:
        raise invalid_request("Missing required field: model.")
    if not isinstance(model, str):
        raise invalid_model(json.dumps(model))
    try:
        request = ChatCompletionRequest.model_validate(json_numbers(payload))
    except ValidationError as exc:
        raise _from_validation_error(exc, payload) from None
    spec = MODELS.get(model, MODELS[FALLBACK_MODEL])
    try:
        check_parameters(request, spec)
    except MockAPIError:
        request = request.model_copy(update=dict.fromkeys(WAIVED_FIELDS))
    return request, spec


def parse_search(state: MockState, payload: Any) -> SearchRequest:
    """`parse_search_request` under the configured strictness."""
    if state.settings.strictness == "faithful":
        return parse_search_request(payload)
    if not isinstance(payload, dict):
        raise invalid_request("Request body must be a JSON object.")
    try:
        request = SearchRequest.model_validate(json_numbers(payload))
    except ValidationError as exc:
        raise _from_validation_error(exc, payload) from None
    try:
        check_search_parameters(request)
    except MockAPIError:
        request = request.model_copy(update=dict.fromkeys(WAIVED_SEARCH_FIELDS))
    return request


def unknown_job(state: MockState, job_id: str) -> dict[str, Any]:
    """Spec strictness: any job id reads back as a completed job with a synthesized answer."""
    now = state.clock.time()
    (model,) = ASYNC_MODELS
    request = ChatCompletionRequest.model_validate(
        {"model": model, "messages": [{"role": "user", "content": f"Async request {job_id}"}]}
    )
    today = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
    completion = synthesize_completion(request, MODELS[model], state.settings.seed, today, state.corpus)
    return {
        "id": job_id,
        "model": model,
        "created_at": int(now),
        "status": "COMPLETED",
        "started_at": int(now),
        "completed_at": int(now),
        "failed_at": None,
        "response": completion.body(int(now)),
        "error_message": None,
    }
