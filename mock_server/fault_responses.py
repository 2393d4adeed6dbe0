"""The bodies a `status=N` fault answers with: the real ones where they were observed, ours elsewhere.

Observed: 401 `invalid_api_key`, 403 `chat_completions_not_available`, 429
`request_rate_limit_exceeded` (type only), 500 `internal_server_error`, and the edge's HTML 502
page (Cloudflare, 2025-04). Our choices: the 404/413/504 types are the Agent API's (MIGR); the
rest are named after the status. A 429 without `retry-after-ms` advises one second.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from starlette.responses import Response

from mock_server.errors import INVALID_API_KEY_MESSAGE, RETIRED_MESSAGE, error_body

# Verbatim from the 2025-04 report (api-discussion#284), as the dossier quotes it.
EDGE_502_HTML = (
    "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> "
    "<hr><center>cloudflare</center> </body></html>"
)
STREAM_ERROR_STATUS = 500
INTERNAL_ERROR_MESSAGE = "An internal server error has occurred."
DEFAULT_429_RETRY_MS = 1000

# status -> (type, message)
BODIES: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "Bad request."),
    401: ("invalid_api_key", INVALID_API_KEY_MESSAGE),
    403: ("chat_completions_not_available", RETIRED_MESSAGE),
    404: ("not_found", "Not found."),
    408: ("request_timeout", "Request timeout."),
    409: ("conflict", "Conflict."),
    413: ("payload_too_large", "Request body too large."),
    422: ("unprocessable_entity", "Unprocessable entity."),
    429: ("request_rate_limit_exceeded", "Too Many Requests."),
    500: ("internal_server_error", INTERNAL_ERROR_MESSAGE),
    503: ("service_unavailable", "The server is busy; try again shortly."),
    504: ("gateway_timeout", "Gateway timeout."),
}


def status_response(status: int, retry_after_ms: int | None = None) -> Response:
    if status == 429 and retry_after_ms is None:
        retry_after_ms = DEFAULT_429_RETRY_MS
    headers = {}
    if retry_after_ms is not None:
        # Rounded up in whole numbers: exact for any count, where `/` would go through a float.
        headers = {"retry-after": str(-(-retry_after_ms // 1000)), "retry-after-ms": str(retry_after_ms)}
    if status == 502:
        return Response(EDGE_502_HTML, 502, headers, media_type="text/html")
    type, message = BODIES.get(status) or _named_after(status)
    return Response(error_body(status, type, message), status, headers, media_type="application/json")


def stream_error_frame() -> bytes:
    """The `event: error` the official SDKs raise on inside a 200 stream (`_streaming.py`)."""
    body = error_body(STREAM_ERROR_STATUS, "internal_server_error", INTERNAL_ERROR_MESSAGE)
    return b"event: error\ndata: " + body + b"\n\n"


def _named_after(status: int) -> tuple[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower().replace("'", "")).strip("_"), f"{phrase}."
