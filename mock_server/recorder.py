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
from mock_server.journal import Row
from mock_server.ratelimit import LIMIT_STATE_KEY, namespace_of
from mock_server.request_headers import bearer_token
from mock_server.sse import events_of
from mock_server.state import MockState

# The mock's own routes: they are not API traffic, and the journal must not fill up with polls of itself.
UNRECORDED_PATHS = ("/_mock/", "/healthz", "/openapi.json")
FAULT_STATE_KEY = "mock_fault"
# Chat and search handlers note the fixture that answered (a string) or None when they synthesized it.
FIXTURE_STATE_KEY = "mock_fixture"
MODEL_MAX_CHARS = 100


class Recording:
    """One API request in the journal (a `journal.InFlight`): what the response has shown so far,
    and when it ends, its entry as one row.

    `ExchangeMiddleware` (exchange.py) calls `response_started` with the response's final status and
    headers, `body_sent` with each body message, then `failed` and `close`. Everything else is read
    from the request's notes when the entry is built: the model from the body the handler parsed
    (body.py notes it; a request refused before its body was read names none), the fault, the
    limit and the fixture.
    """

    __slots__ = (
        "api_key",
        "body_bytes",
        "chunks",
        "headers",
        "journal",
        "method",
        "namespace",
        "notes",
        "path",
        "position",
        "seq",
        "started",
        "status",
        "time",
    )

    def __init__(self, state: MockState, scope: Scope) -> None:
        # The same dict as the handler's `request.state`, so what the handlers note there reaches us.
        self.notes: dict[str, Any] = scope.setdefault("state", {})
        self.journal = state.journal
        self.time = state.clock.time()
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.namespace = namespace_of(scope)
        self.api_key = bearer_token(scope)
        self.status: int | None = None
        # The response's headers by lower-case name, once it has started.
        self.headers: Mapping[bytes, bytes] | None = None
        self.body_bytes = 0
        self.chunks: int | None = None
        self.seq = self.position = 0
        self.started = time.monotonic()
        self.journal.open(self)

    def response_started(self, status: int, headers: Mapping[bytes, bytes]) -> None:
        """`headers`: the response's, by lower-case name (the first of each)."""
        self.status = status
        self.headers = headers
        if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
            self.chunks = 0

    def body_sent(self, message: Message) -> None:
        self.body_bytes += len(message.get("body", b""))
        if self.chunks is not None:
            # A batched message counts as the events it carries (see sse.py).
            self.chunks += len(events_of(message))

    def failed(self) -> None:
        # The outer layer sends the API's 500 through here; this is for when even that could not go out.
        if self.status is None:
            self.status = 500

    def close(self) -> None:
        self.journal.close(self, self.row(done=True, duration_ms=(time.monotonic() - self.started) * 1000))

    def row(self, done: bool = False, duration_ms: float | None = None) -> Row:
        """The entry as it stands, in the journal's field order (`journal.ROW_FIELDS`)."""
        notes, headers = self.notes, self.headers
        fault, limit = notes.get(FAULT_STATE_KEY), notes.get(LIMIT_STATE_KEY)
        fixture = synthesized = None
        if FIXTURE_STATE_KEY in notes:
            fixture = notes[FIXTURE_STATE_KEY]
            fixture = fixture if isinstance(fixture, str) else None
            synthesized = fixture is None
        request_id = retry_after = None
        if headers is not None:
            encoded_id = headers.get(b"x-request-id")
            request_id = encoded_id.decode("latin-1") if encoded_id is not None else None
            if self.status == 429:
                retry_after = retry_after_ms(headers)
        parsed = notes.get(PARSED_BODY_STATE_KEY)
        return (
            self.seq,
            self.time,
            self.method,
            self.path,
            self.namespace,
            self.api_key,
            model_of(parsed.payload) if isinstance(parsed, Body) else None,
            limit if isinstance(limit, str) else None,
            self.status,
            request_id,
            str(fault) if fault is not None else None,
            fixture,
            synthesized,
            done,
            duration_ms,
            self.body_bytes,
            self.chunks,
            retry_after,
            # The backoff verdict: the journal's to judge when the entry is closed.
            None,
            None,
            None,
        )


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
