"""Writing each API request into the journal (see journal.py) as it is answered.

The outermost middleware (exchange.py) feeds a `Recording` every message, so the journal sees the
response exactly as the client does: final status, `X-Request-ID`, rate-limit headers, each
streamed chunk. It reads the request body only by copying the chunks the handler itself
receives, so the handler's reading is unchanged.

Fault injection tells the journal what it did by setting `scope["state"]["mock_fault"]` to a short
description (a string); the entry's `fault` is whatever is there once the response has ended.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.types import Message, Scope

from mock_server.body import PARSED_BODY_STATE_KEY, Body, BodyCache
from mock_server.journal import Entry
from mock_server.ratelimit import LIMIT_STATE_KEY, namespace_of
from mock_server.request_headers import bearer_token, request_headers
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
OBSERVED_HEADERS = frozenset((b"x-request-id", b"content-type", b"retry-after-ms", b"retry-after"))


class Recording:
    """One API request's journal entry, filled in as the request is read and the response sent.

    `ExchangeMiddleware` (exchange.py) calls `received` with each message the app receives, `sent`
    with each message it sends (headers already complete), then `failed` and `close`.
    """

    def __init__(self, state: MockState, scope: Scope) -> None:
        headers = request_headers(scope)
        self.state = state
        # The same dict as the handler's `request.state`, so what fault injection notes there reaches us.
        self.notes: dict[str, Any] = scope.setdefault("state", {})
        self.entry = state.journal.open(
            state.clock.time(), scope["method"], scope["path"], namespace_of(headers), bearer_token(headers)
        )
        self.started = time.monotonic()
        self.body = _BodyCopy()

    def received(self, message: Message) -> None:
        if message["type"] != "http.request":
            return
        if self.body.add(message.get("body", b""), message.get("more_body", False)):
            parsed = parse_body(self.state.bodies, b"".join(self.body.chunks))
            if parsed is not None:
                self.entry.model = model_of(parsed.payload)
                # The handler reads the same bytes next: it takes this parse instead of its own.
                self.notes[PARSED_BODY_STATE_KEY] = parsed

    def sent(self, message: Message) -> None:
        _observe(self.entry, message)

    def failed(self) -> None:
        # The outermost error handler answers 500 without passing through here.
        if self.entry.status is None:
            self.entry.status = 500

    def close(self) -> None:
        entry, notes = self.entry, self.notes
        entry.duration_ms = (time.monotonic() - self.started) * 1000
        fault, limit = notes.get(FAULT_STATE_KEY), notes.get(LIMIT_STATE_KEY)
        entry.fault = str(fault) if fault is not None else None
        entry.limit = limit if isinstance(limit, str) else None
        if FIXTURE_STATE_KEY in notes:
            fixture = notes[FIXTURE_STATE_KEY]
            entry.fixture = fixture if isinstance(fixture, str) else None
            entry.synthesized = entry.fixture is None
        self.state.journal.close(entry)


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
        # One pass over the few headers this needs (the first of each, as `Headers.get` gives).
        headers: dict[bytes, str] = {}
        for name, value in message.get("headers", ()):
            name = name.lower()
            if name in OBSERVED_HEADERS and name not in headers:
                headers[name] = value.decode("latin-1")
        entry.request_id = headers.get(b"x-request-id")
        if entry.status == 429:
            entry.retry_after_ms = retry_after_ms(headers)
        if headers.get(b"content-type", "").startswith("text/event-stream"):
            entry.chunks = 0
    elif message["type"] == "http.response.body":
        entry.body_bytes += len(message.get("body", b""))
        if entry.chunks is not None:
            # A batched message counts as the events it carries (see sse.py).
            entry.chunks += len(events_of(message))


def parse_body(cache: BodyCache, raw: bytes) -> Body | None:
    try:
        return cache.parse(raw)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        return None


def model_of(payload: Any) -> str | None:
    """The chat model a body names: its own `model`, or an async job's `request.model`."""
    if not isinstance(payload, dict):
        return None
    model = payload.get("model")
    inner = payload.get("request")
    if model is None and isinstance(inner, dict):
        model = inner.get("model")
    return model[:MODEL_MAX_CHARS] if isinstance(model, str) else None


def retry_after_ms(headers: Mapping[bytes, str]) -> int | None:
    """The wait a 429 advises: `retry-after-ms` as the SDKs prefer it, else `Retry-After` seconds."""
    for name, factor in ((b"retry-after-ms", 1), (b"retry-after", 1000)):
        value = headers.get(name, "").strip()
        if value.isdigit():
            return int(value) * factor
    return None
