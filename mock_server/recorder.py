"""Pure-ASGI middleware that writes every API request into the journal (see journal.py).

It sits outside every other middleware, so it sees the response exactly as the client does:
final status, `X-Request-ID`, rate-limit headers, each streamed chunk. It reads the request body
only by copying the chunks the handler itself receives, so the handler's reading is unchanged.

Fault injection tells the journal what it did by setting `scope["state"]["mock_fault"]` to a short
description (a string); the entry's `fault` is whatever is there once the response has ended.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.body import PARSED_BODY_STATE_KEY
from mock_server.journal import Entry
from mock_server.ratelimit import LIMIT_STATE_KEY, namespace_of
from mock_server.sse import events_of
from mock_server.state import MockState

# The mock's own routes: they are not API traffic, and the journal must not fill up with polls of itself.
UNRECORDED_PATHS = ("/_mock/", "/healthz", "/openapi.json")
FAULT_STATE_KEY = "mock_fault"
# Chat and search handlers note the fixture that answered (a string) or None when they synthesized it.
FIXTURE_STATE_KEY = "mock_fixture"
# A larger body is not kept to find its model: the journal must never hold megabytes per request.
MODEL_PEEK_BYTES = 1024 * 1024
MODEL_MAX_CHARS = 100


class JournalMiddleware:
    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNRECORDED_PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # The same dict as the handler's `request.state`, so what fault injection notes there reaches us.
        notes: dict[str, Any] = scope.setdefault("state", {})
        journal = self.state.journal
        entry = journal.open(
            self.state.clock.time(), scope["method"], scope["path"], namespace_of(headers), bearer_token(headers)
        )
        started = time.monotonic()
        body = _BodyCopy()

        async def copying_receive() -> Message:
            message = await receive()
            chunk, more = message.get("body", b""), message.get("more_body", False)
            if message["type"] == "http.request" and body.add(chunk, more):
                raw = b"".join(body.chunks)
                payload = parse_body(raw)
                entry.model = model_of(payload)
                if payload is not None:
                    # The handler reads the same bytes next: it takes this parse instead of its own.
                    notes[PARSED_BODY_STATE_KEY] = (raw, payload)
            return message

        async def recording_send(message: Message) -> None:
            _observe(entry, message)
            await send(message)

        try:
            await self.app(scope, copying_receive, recording_send)
        except Exception:
            # The outermost error handler answers 500 without passing through here.
            if entry.status is None:
                entry.status = 500
            raise
        finally:
            entry.duration_ms = (time.monotonic() - started) * 1000
            fault, limit = notes.get(FAULT_STATE_KEY), notes.get(LIMIT_STATE_KEY)
            entry.fault = str(fault) if fault is not None else None
            entry.limit = limit if isinstance(limit, str) else None
            if FIXTURE_STATE_KEY in notes:
                fixture = notes[FIXTURE_STATE_KEY]
                entry.fixture = fixture if isinstance(fixture, str) else None
                entry.synthesized = entry.fixture is None
            journal.close(entry)


class _BodyCopy:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False

    def add(self, chunk: bytes, more: bool) -> bool:
        """Keep `chunk`; True once the body is complete and small enough to parse."""
        self.size += len(chunk)
        self.too_large = self.too_large or self.size > MODEL_PEEK_BYTES
        if not self.too_large:
            self.chunks.append(chunk)
        return not more and not self.too_large


def _observe(entry: Entry, message: Message) -> None:
    if message["type"] == "http.response.start":
        entry.status = message["status"]
        headers = Headers(raw=message.get("headers", []))
        entry.request_id = headers.get("x-request-id")
        if entry.status == 429:
            entry.retry_after_ms = retry_after_ms(headers)
        if headers.get("content-type", "").startswith("text/event-stream"):
            entry.chunks = 0
    elif message["type"] == "http.response.body":
        entry.body_bytes += len(message.get("body", b""))
        if entry.chunks is not None:
            # A batched message counts as the events it carries (see sse.py).
            entry.chunks += len(events_of(message))


def parse_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def model_of(payload: Any) -> str | None:
    """The chat model a body names: its own `model`, or an async job's `request.model`."""
    if not isinstance(payload, dict):
        return None
    model = payload.get("model")
    inner = payload.get("request")
    if model is None and isinstance(inner, dict):
        model = inner.get("model")
    return model[:MODEL_MAX_CHARS] if isinstance(model, str) else None


def retry_after_ms(headers: Headers) -> int | None:
    """The wait a 429 advises: `retry-after-ms` as the SDKs prefer it, else `Retry-After` seconds."""
    for name, factor in (("retry-after-ms", 1), ("retry-after", 1000)):
        value = headers.get(name, "").strip()
        if value.isdigit():
            return int(value) * factor
    return None
