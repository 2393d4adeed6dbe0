"""The headers every API response carries, whichever path sends it; stamped by exchange.py."""

from __future__ import annotations

from typing import Any

from starlette.types import Message

from mock_server.ids import new_id

# Where a handler leaves headers for the response, whichever path ends up sending it (its own
# answer, an error handler's, a stream): a key of the request's `state`.
EXTRA_HEADERS = "pplx_mock_extra_headers"
# The CORS header the real API was seen sending (on a 401; third-party write-ups, 2026-08).
CORS_HEADER = (b"access-control-allow-origin", b"*")


def add_encoded_headers(notes: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    """Headers for this request's response, lower-case names and values encoded, kept in the
    request's state dict (`scope["state"]`); a later call wins over an earlier one for a name."""
    extra: list[tuple[bytes, bytes]] | None = notes.get(EXTRA_HEADERS)
    if extra:
        names = {name for name, _ in headers}
        headers = [header for header in extra if header[0] not in names] + headers
    notes[EXTRA_HEADERS] = headers


def stamp_headers(message: Message, notes: dict[str, Any]) -> Message:
    """A response start with the headers every API response carries added: `X-Request-ID` (when
    the route set none), the CORS header the API sends, and those a handler asked for with
    `add_encoded_headers` (unless the response has its own). Other messages pass unchanged.

    `notes` is the request's state dict (`scope["state"]`), where `add_encoded_headers` writes.
    """
    if message["type"] != "http.response.start":
        return message
    return stamp_start(message, notes)[0]


def stamp_start(message: Message, notes: dict[str, Any]) -> tuple[Message, dict[bytes, bytes]]:
    """`stamp_headers` of a response start, and its final headers by lower-case name (the first
    of each, as `Headers.get` gives), which the journal reads: one pass over them for both."""
    headers = list(message.get("headers", ()))
    seen: dict[bytes, bytes] = {}
    for name, value in headers:
        name = name.lower()
        if name not in seen:
            seen[name] = value
    extra: list[tuple[bytes, bytes]] | None = notes.get(EXTRA_HEADERS)
    if extra:
        for header in extra:
            if header[0] not in seen:
                headers.append(header)
                seen[header[0]] = header[1]
    if b"x-request-id" not in seen:
        request_id = new_id().encode()
        headers.append((b"x-request-id", request_id))
        seen[b"x-request-id"] = request_id
    headers.append(CORS_HEADER)
    return {**message, "headers": headers}, seen
