"""An optional cap on one key's requests in flight, with a bounded queue: backpressure.

With `max_concurrent_requests` set, each (namespace, key) may have that many API requests in
flight (a stream counts until its last byte); up to `concurrency_queue` more wait, first come
first served, for a slot, and any beyond those are refused at once with `concurrency_status`:
429 `request_rate_limit_exceeded` (what one report saw for two concurrent sonar-pro requests) or
503. Requests without an accepted key pass through, so the handler answers 401 first.
"""

from __future__ import annotations

from collections import deque

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.errors import MockAPIError, error_response
from mock_server.ratelimit import RATE_LIMIT_TYPE, namespace_of
from mock_server.state import MockState

# The mock's own routes, which no API key reaches.
UNCAPPED_PATHS = ("/_mock/", "/healthz", "/openapi.json")
# Nobody can know when a slot frees up; one second is a polite guess.
RETRY_AFTER_SECONDS = 1


class Gate:
    """`slots` requests at a time, `queue` more waiting in order; `enter` says False to the rest."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots = slots
        self.queue = queue
        self.active = 0
        self._waiting: deque[anyio.Event] = deque()

    async def enter(self) -> bool:
        if self.active < self.slots:
            self.active += 1
            return True
        if len(self._waiting) >= self.queue:
            return False
        turn = anyio.Event()
        self._waiting.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():
                self.leave()  # the slot was already handed to us: pass it on
            else:
                self._waiting.remove(turn)
            raise
        return True

    def leave(self) -> None:
        if self._waiting:
            # The slot goes straight to the next in line; `active` does not change.
            self._waiting.popleft().set()
        else:
            self.active -= 1


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app = app
        self.state = state
        self.gates: dict[tuple[str, str], Gate] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.state.settings
        slots = settings.max_concurrent_requests
        if scope["type"] != "http" or slots is None or scope["path"].startswith(UNCAPPED_PATHS):
            await self.app(scope, receive, send)
            return
        try:
            key = self.state.keys.authenticate(scope)
        except MockAPIError:
            await self.app(scope, receive, send)
            return
        gate = self.gates.setdefault((namespace_of(scope), key), Gate(slots, settings.concurrency_queue))
        if not await gate.enter():
            await error_response(_refusal(settings.concurrency_status, slots))(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()


def _refusal(status: int, slots: int) -> MockAPIError:
    headers = {"retry-after": str(RETRY_AFTER_SECONDS), "retry-after-ms": str(RETRY_AFTER_SECONDS * 1000)}
    if status == 503:
        return MockAPIError(503, "service_unavailable", "The server is busy; try again shortly.", headers)
    message = f"Too Many Requests: at most {slots} concurrent requests per API key."
    return MockAPIError(429, RATE_LIMIT_TYPE, message, headers)
