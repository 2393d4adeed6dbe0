"""The API's error responses: `MockAPIError` and the handlers that render it.

Bodies follow the observed envelope `{"error": {"message", "type", "code": <status>}}`.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

# A value a message quotes is cut after this many characters: it may be kilobytes of digits.
QUOTED_CHARACTERS = 40
INVALID_API_KEY_MESSAGE = "Invalid API key provided. Ensure your API key is correct and active."
# What a valid key gets from Sonar chat completions since the API moved on (observed 2026-09).
RETIRED_MESSAGE = "Sonar is now the Agent API. Use /v1/responses instead of /v1/sonar."
MODELS_DOC_URL = "https://docs.perplexity.ai/docs/getting-started/models"


class MockAPIError(Exception):
    def __init__(self, status_code: int, type: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.type = type
        self.message = message
        self.headers = headers or {}

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(status_code={self.status_code!r}, type={self.type!r}, message={self.message!r})"
        )


def quoted(value: object) -> str:
    """`value` as a message quotes it (its repr), cut short when it is long."""
    text = repr(value)
    if len(text) <= QUOTED_CHARACTERS:
        return text
    return f"{text[:QUOTED_CHARACTERS]}... ({len(text)} characters)"


def error_body(status_code: int, type: str, message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": type, "code": status_code}}).encode()


def error_response(exc: MockAPIError) -> Response:
    return Response(
        error_body(exc.status_code, exc.type, exc.message),
        status_code=exc.status_code,
        headers=exc.headers,
        media_type="application/json",
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MockAPIError)
    return error_response(exc)


def server_error_response() -> Response:
    # The body the real API sends for its own failures (observed 2025-03).
    body = error_body(500, "internal_server_error", "An internal server error has occurred.")
    return Response(body, status_code=500, media_type="application/json")


async def handle_server_error(request: Request, exc: Exception) -> Response:
    return server_error_response()


async def handle_unknown_route(request: Request, exc: Exception) -> Response:
    # The real API answers unknown paths with a bare 404 and an empty body (observed 2026-08).
    status = getattr(exc, "status_code", 404)
    headers = getattr(exc, "headers", None)
    return Response(b"", status_code=status, headers=headers)


def invalid_api_key() -> MockAPIError:
    return MockAPIError(401, "invalid_api_key", INVALID_API_KEY_MESSAGE)


def chat_completions_not_available() -> MockAPIError:
    return MockAPIError(403, "chat_completions_not_available", RETIRED_MESSAGE)


def invalid_model(name: str) -> MockAPIError:
    return MockAPIError(
        400,
        "invalid_model",
        f"Invalid model '{name}'. Permitted models can be found in the documentation at {MODELS_DOC_URL}.",
    )


def invalid_message(message: str) -> MockAPIError:
    return MockAPIError(400, "invalid_message", message)


def invalid_parameter(message: str) -> MockAPIError:
    return MockAPIError(400, "invalid_parameter", message)


def invalid_request(message: str) -> MockAPIError:
    return MockAPIError(400, "invalid_request", message)
