"""Writing each API request into the journal (see journal.py) as it is answered.

The outermost middleware (exchange.py) feeds a `Recording` every message it sends, so the journal
sees the response exactly as the client does: final status, `X-Request-ID`, rate-limit headers,
each streamed chunk. The request body is not copied: the model is read from the handler's own
parse of it.

Fault injection tells the journal what it did by setting `scope["state"]["mock_fault"]` to a short
description (a string); the entry's `fault` is whatever is there once the response has ended.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.types import Message, Scope

from mock_server.body import PARSED_BODY_STATE_KEY, Body
from mock_server.ratelimit import LIMIT_STATE_KEY, namespace_of
from mock_server.request_headers import bearer_token, request_headers
from mock_server.sse import events_of
from mock_server.state import MockState

# The mock's own routes: they are not API traffic, and the journal must not fill up with polls of itself.
UNRECORDED_PATHS = ("/_mock/", "/healthz", "/openapi.json")
FAULT_STATE_KEY = "mock_fault"
# Chat and search handlers note the fixture that answered (a string) or None when they synthesized it.
FIXTURE_STATE_KEY = "mock_fixture"
MODEL_MAX_CHARS = 100


class Recording:
    """One API request's journal entry, filled in as the response is sent.

    `ExchangeMiddleware` (exchange.py) calls `response_started` with the response's final status and
    headers, `body_sent` with each body message, then `failed` and `close`. The model comes from
    the body the handler parsed (body.py notes it in the request's state): a request refused before
    its body was read names none.
    """

    __slots__ = ("entry", "notes", "started", "state")

    def __init__(self, state: MockState, scope: Scope) -> None:
        headers = request_headers(scope)
        self.state = state
        # The same dict as the handler's `request.state`, so what fault injection notes there reaches us.
        self.notes: dict[str, Any] = scope.setdefault("state", {})
        self.entry = state.journal.open(
            state.clock.time(), scope["method"], scope["path"], namespace_of(headers), bearer_token(headers)
        )
        self.started = time.monotonic()

    def response_started(self, status: int, headers: Mapping[bytes, bytes]) -> None:
        """`headers`: the response's, by lower-case name (the first of each)."""
        entry = self.entry
        entry.status = status
        # Known by now, and shown while a stream is still going.
        entry.model = self._model()
        request_id = headers.get(b"x-request-id")
        entry.request_id = request_id.decode("latin-1") if request_id is not None else None
        if status == 429:
            entry.retry_after_ms = retry_after_ms(headers)
        if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
            entry.chunks = 0

    def body_sent(self, message: Message) -> None:
        entry = self.entry
        entry.body_bytes += len(message.get("body", b""))
        if entry.chunks is not None:
            # A batched message counts as the events it carries (see sse.py).
            entry.chunks += len(events_of(message))

    def failed(self) -> None:
        # The outermost error handler answers 500 without passing through here.
        if self.entry.status is None:
            self.entry.status = 500

    def close(self) -> None:
        entry, notes = self.entry, self.notes
        entry.duration_ms = (time.monotonic() - self.started) * 1000
        if entry.model is None:
            entry.model = self._model()
        fault, limit = notes.get(FAULT_STATE_KEY), notes.get(LIMIT_STATE_KEY)
        entry.fault = str(fault) if fault is not None else None
        entry.limit = limit if isinstance(limit, str) else None
        if FIXTURE_STATE_KEY in notes:
            fixture = notes[FIXTURE_STATE_KEY]
            entry.fixture = fixture if isinstance(fixture, str) else None
            entry.synthesized = entry.fixture is None
        self.state.journal.close(entry)

    def _model(self) -> str | None:
        parsed = self.notes.get(PARSED_BODY_STATE_KEY)
        return model_of(parsed.payload) if isinstance(parsed, Body) else None


def model_of(payload: Any) -> str | None:
    """The chat model a body names: its own `model`, or an async job's `request.model`."""
    if not isinstance(payload, dict):
        return None
    model = payload.get("model")
    inner = payload.get("request")
    if model is None and isinstance(inner, dict):
        model = inner.get("model")
    return model[:MODEL_MAX_CHARS] if isinstance(model, str) else None


def retry_after_ms(headers: Mapping[bytes, bytes]) -> int | None:
    """The wait a 429 advises: `retry-after-ms` as the SDKs prefer it, else `Retry-After` seconds."""
    for name, factor in ((b"retry-after-ms", 1), (b"retry-after", 1000)):
        value = headers.get(name, b"").strip()
        if value.isdigit():
            return int(value) * factor
    return None
