"""Reading a JSON request body with the checks the API applies before validation.

Too large → 413 `payload_too_large`; not JSON by its Content-Type → 415 (API routes only: the
control plane reads JSON whatever the Content-Type says); unparsable → 400, whatever the reason
(bad syntax or UTF-8, a number of more digits than `int()` takes, arrays or objects nested more
than `MAX_NESTING` levels deep).

Load tests send the same few bodies over and over, so parsed bodies are kept by their bytes
(`BodyCache`): a repeated body is parsed once, and what a handler derives from it (the
validated chat request) is kept beside it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope

from mock_server.errors import MockAPIError, invalid_request
from mock_server.request_headers import request_headers

# Where the parsed body is left in the request's state, for the journal (the model it names).
PARSED_BODY_STATE_KEY = "pplx_mock_parsed_body"
# Larger bodies are parsed every time: the cache must never hold megabytes.
CACHED_BODY_BYTES = 16 * 1024
# A hanging request's larger body is not kept to find its model (see `receive_noting_body`).
NOTED_BODY_BYTES = 1024 * 1024
# Deeper bodies are refused. No request nests anywhere near this, while deeper ones broke what
# reads them: the parser runs out of stack at about 900 levels, and pydantic serializes no more
# than about 250 (a chat request's `json_schema` is serialized to seed its answer).
MAX_NESTING = 128
TOO_DEEP = f"arrays or objects are nested more than {MAX_NESTING} levels deep"


class NotJSONError(ValueError):
    """A body that does not decode as JSON; the message says why, for the API's 400."""


@dataclass
class Body:
    raw: bytes
    # The decoded JSON. Shared by every request that sent these bytes: never changed.
    payload: Any
    # What handlers made of `payload`, by name (e.g. "chat": the validated request and its model).
    derived: dict[str, Any] = field(default_factory=dict)


class BodyCache:
    """Parsed JSON bodies by their bytes, least recently used first out."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, Body] = OrderedDict()

    def parse(self, raw: bytes) -> Body:
        """The body `raw` decodes to; raises `NotJSONError` when it is not JSON."""
        body = self._entries.get(raw)
        if body is not None:
            self._entries.move_to_end(raw)
            return body
        body = Body(raw, loads(raw))
        if len(raw) <= CACHED_BODY_BYTES:
            self._entries[raw] = body
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return body


# Clients send the same Content-Type on every request.
@lru_cache(maxsize=64)
def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    # Clients that send no Content-Type at all still get their JSON parsed.
    return media in {b"", b"application/json"} or media.endswith(b"+json")


def loads(raw: bytes) -> Any:
    """`json.loads`, with every way a body can fail to decode raised as `NotJSONError`."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotJSONError(str(exc)) from None
    except ValueError:
        # The one other ValueError: integers go through `int()`, which refuses more digits than
        # this (a guard against quadratic conversion time).
        raise NotJSONError(f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        # The C parser recurses once per nested array or object: a few KB of `[` exhaust the stack.
        raise NotJSONError(TOO_DEEP) from None
    # Counting brackets is cheap and bounds the depth, so only a body with many of them is walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_NESTING and _nested_deeper(payload, MAX_NESTING):
        raise NotJSONError(TOO_DEEP)
    return payload


def _nested_deeper(payload: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels deep in `payload`; level by level,
    not recursively, since the point is a depth recursion could not reach."""
    level = [payload] if isinstance(payload, dict | list) else []
    for _ in range(limit):
        if not level:
            return False
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
    return bool(level)


async def read_body(request: Request, limit: int, *, any_content_type: bool = False) -> bytes:
    """The whole body, after the Content-Type and size checks; may be empty.

    `any_content_type` skips the Content-Type check, for the control plane (see `control.py`).
    """
    headers = request_headers(request.scope)
    if not any_content_type and not _is_json(headers.get(b"content-type", b"")):
        raise MockAPIError(415, "unsupported_media_type", "Content-Type must be application/json.")
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # Straight from `receive`: Starlette's `Request.stream` generator costs more than the reading.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json_body(
    request: Request, limit: int, cache: BodyCache | None = None, *, any_content_type: bool = False
) -> Body:
    raw = await read_body(request, limit, any_content_type=any_content_type)
    if not raw.strip():
        raise invalid_request("Request body is empty; expected a JSON object.")
    body = parse_json(raw, cache)
    request.scope.setdefault("state", {})[PARSED_BODY_STATE_KEY] = body
    return body


def receive_noting_body(scope: Scope, receive: Receive, cache: BodyCache) -> Receive:
    """`receive`, noting the body as `read_json_body` does once it has all come in: for the paths
    that consume it without a handler (a hanging fault), so that the journal still names the model."""
    chunks: list[bytes] = []

    async def noting_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False) and sum(map(len, chunks)) <= NOTED_BODY_BYTES:
                with contextlib.suppress(NotJSONError):  # nothing to note
                    scope.setdefault("state", {})[PARSED_BODY_STATE_KEY] = cache.parse(b"".join(chunks))
        return message

    return noting_receive


def parse_json(raw: bytes, cache: BodyCache | None = None) -> Body:
    """`raw` decoded, or the API's 400 saying why it is not JSON."""
    try:
        return cache.parse(raw) if cache is not None else Body(raw, loads(raw))
    except NotJSONError as exc:
        raise invalid_request(f"Request body is not valid JSON: {exc}.") from None


async def read_json(request: Request, limit: int, *, any_content_type: bool = False) -> Any:
    return (await read_json_body(request, limit, any_content_type=any_content_type)).payload


def _too_large(limit: int) -> MockAPIError:
    return MockAPIError(413, "payload_too_large", f"Request body exceeds the {limit}-byte limit.")
