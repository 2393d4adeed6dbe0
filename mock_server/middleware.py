"""The headers every API response carries, whichever path sends it; stamped by exchange.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import Message

from mock_server.ids import new_id

# Where a handler leaves headers for the response, whichever path ends up sending it (its own
# answer, an error handler's, a stream): a key of the request's `state`.
EXTRA_HEADERS = "pplx_mock_extra_headers"
# The CORS header the real API was seen sending (on a 401; third-party write-ups, 2026-08).
CORS_HEADER = (b"access-control-allow-origin", b"*")


def add_response_headers(request: Request, headers: dict[str, str]) -> None:
    # The dict behind `request.state`, used directly: through `State`, the first lookup of a name
    # that is not there yet raises and catches an AttributeError, on every request.
    state: dict[str, Any] = request.scope.setdefault("state", {})
    # Encoded now, as the response needs them; a later call wins over an earlier one for a name.
    encoded = {name.lower().encode("latin-1"): value.encode("latin-1") for name, value in headers.items()}
    state[EXTRA_HEADERS] = {**state.get(EXTRA_HEADERS, {}), **encoded}


def stamp_headers(message: Message, notes: dict[str, Any]) -> Message:
    """A response start with the headers every API response carries added: `X-Request-ID` (when
    the route set none), the CORS header the API sends, and those a handler asked for with
    `add_response_headers` (unless the response has its own). Other messages pass unchanged.

    `notes` is the request's state dict (`scope["state"]`), where `add_response_headers` writes.
    """
    if message["type"] != "http.response.start":
        return message
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    extra: dict[bytes, bytes] | None = notes.get(EXTRA_HEADERS)
    if extra:
        headers += [header for header in extra.items() if header[0] not in present]
    if b"x-request-id" not in present:
        headers.append((b"x-request-id", new_id().encode()))
    headers.append(CORS_HEADER)
    return {**message, "headers": headers}
