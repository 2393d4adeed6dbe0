"""Builds the OpenAPI document from the models in `contract.schemas`.

    python -m contract.openapi          # writes contract/openapi.yaml
    python -m contract.openapi --check  # exits 1 when the checked-in file is stale

The document is generated, never edited by hand: change a model, regenerate, commit both.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contract import schemas
from contract.spec import SPEC_PATH

API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"

# Statuses any operation can answer with besides its success: validation (400), auth (401), a
# retired or forbidden surface (403), body limits (413, 415), rate limits (429) and the upstream
# failures that fault injection reproduces.
COMMON_ERRORS = (400, 401, 403, 413, 415, 429, 500, 503, 504)
ERROR_DESCRIPTIONS = {
    400: "Invalid request (`invalid_model`, `invalid_message`, `invalid_parameter`, `invalid_request`)",
    401: "Missing or invalid API key (`invalid_api_key`)",
    403: "Surface not available for this key (`chat_completions_not_available`)",
    404: "Not found",
    413: "Request body too large (`payload_too_large`)",
    415: "Request body is not JSON (`unsupported_media_type`)",
    429: "Rate limit exceeded (`request_rate_limit_exceeded`)",
    500: "Internal server error",
    502: "Bad gateway (HTML page from the edge)",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass(frozen=True)
class Operation:
    method: Literal["get", "post"]
    path: str
    operation_id: str
    summary: str
    request: type[BaseModel] | None
    response: type[BaseModel]
    streams: bool = False
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = COMMON_ERRORS
    query: type[BaseModel] | None = None
    path_parameters: tuple[str, ...] = ()


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/chat/completions",
        "createChatCompletion",
        "Create a chat completion (JSON, or SSE when `stream` is true)",
        schemas.ChatCompletionRequest,
        schemas.ChatCompletion,
        streams=True,
        tags=("chat",),
    ),
    *(
        operation
        for prefix, suffix in (("/async/chat/completions", ""), ("/v1/async/sonar", "V1"))
        for operation in (
            Operation(
                "post",
                prefix,
                f"createAsyncChatCompletion{suffix}",
                "Submit an async chat completion job (sonar-deep-research only)",
                schemas.AsyncChatCompletionRequest,
                schemas.AsyncChatCompletionJob,
                tags=("async",),
            ),
            Operation(
                "get",
                prefix,
                f"listAsyncChatCompletions{suffix}",
                "List the caller's async jobs, newest first",
                None,
                schemas.AsyncChatCompletionList,
                tags=("async",),
                query=schemas.AsyncChatCompletionListQuery,
            ),
            Operation(
                "get",
                prefix + "/{api_request}",
                f"getAsyncChatCompletion{suffix}",
                "Get one async job: its status and, once completed, the chat completion",
                None,
                schemas.AsyncChatCompletionJob,
                tags=("async",),
                errors=(*COMMON_ERRORS, 404),
                path_parameters=("api_request",),
            ),
        )
    ),
    Operation(
        "post",
        "/search",
        "createSearch",
        "Search the web: ranked pages with snippets, for one query or up to five",
        schemas.SearchRequest,
        schemas.SearchResponse,
        tags=("search",),
    ),
    Operation(
        "post",
        "/v1/sonar",
        "createSonarCompletion",
        "Alias of POST /chat/completions under its 2026 documentation name",
        schemas.ChatCompletionRequest,
        schemas.ChatCompletion,
        streams=True,
        tags=("chat",),
    ),
)


def _components() -> dict[str, Any]:
    inputs = {op.request for op in OPERATIONS if op.request is not None}
    outputs = {op.response for op in OPERATIONS} | {schemas.ErrorResponse}
    pairs: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (model, "validation") for model in sorted(inputs, key=lambda m: m.__name__)
    ] + [(model, "serialization") for model in sorted(outputs, key=lambda m: m.__name__)]
    _, document = models_json_schema(pairs, ref_template=REF_TEMPLATE)
    return dict(sorted(document.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _error_response(status: int) -> dict[str, Any]:
    if status == 502:
        return {"description": ERROR_DESCRIPTIONS[502], "content": {"text/html": {"schema": {"type": "string"}}}}
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": _ref(schemas.ErrorResponse)}},
    }


def _operation(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"application/json": {"schema": _ref(op.response)}}
    if op.streams:
        # OpenAPI 3.1 reads an event stream's schema as the schema of each event; the chunk is JSON
        # inside `data`, described by the content* keywords (which schemathesis checks).
        success["text/event-stream"] = {
            "schema": {
                "type": "object",
                "description": "One server-sent event: `data: <chunk JSON>`; the last one is `data: [DONE]`",
                "required": ["data"],
                "properties": {
                    "data": {
                        "anyOf": [
                            {"const": "[DONE]"},
                            {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": _ref(op.response),
                            },
                        ]
                    },
                    "event": {"type": "string"},
                },
            }
        }
    body: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": list(op.tags),
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in op.path_parameters
    ]
    if op.query is not None:
        query_schema = op.query.model_json_schema()
        required = set(query_schema.get("required", ()))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in query_schema["properties"].items()
        ]
    if parameters:
        body["parameters"] = parameters
    if op.request is not None:
        body["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.request)}}}
    responses: dict[str, Any] = {"200": {"description": "Success", "content": success}}
    for status in sorted({*op.errors, 502}):
        responses[str(status)] = _error_response(status)
    body["responses"] = responses
    return body


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Perplexity Sonar API (as reproduced by pplx-mock)",
            "version": API_VERSION,
            "description": "Generated from contract/schemas by `python -m contract.openapi`. Do not edit.",
        },
        "servers": [{"url": "https://api.perplexity.ai"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def render_document() -> str:
    return yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the checked-in document is stale")
    args = parser.parse_args(argv)
    fresh = render_document()
    if args.check:
        current = SPEC_PATH.read_text(encoding="utf-8") if SPEC_PATH.exists() else ""
        if current != fresh:
            print(f"{SPEC_PATH} is stale: run `python -m contract.openapi`", file=sys.stderr)
            return 1
        return 0
    SPEC_PATH.write_text(fresh, encoding="utf-8")
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
