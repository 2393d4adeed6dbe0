"""The load of `bench/streams.py`: many paced SSE streams, read by one asyncio loop on one core.

Each of `slots` connections sends a streamed chat completion, reads it to the end and sends the
next on the same keep-alive connection, until the load stops: the number of open streams stays at
`slots` however long a stream lasts. The reader is an `asyncio.Protocol` with a handwritten
HTTP/1.1 request and a minimal reader of the chunked body (it only counts the `\\n\\n` that end
events and looks for the terminating chunk): per read it costs one callback and a `bytes.count`,
no task switch, so one client core can follow far more chunks than one server core can send. A
full HTTP client (httpx) costs more per chunk than the server does.

Each event's arrival time is compared with its schedule, counted from the moment its request was
written: event `j` of a stream with `k` content chunks is due at `ttft + (min(j, k) - 1) / rate`
(the finishing chunk and `data: [DONE]` go with the last token, as `chunks.full_frames` sends
them). The lateness therefore includes the server's time to accept and parse the request, and the
client's own delay in reading; `LoopLag` measures the latter so that a slow client shows.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from dataclasses import dataclass, field

END_OF_BODY = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body, after the last event's chunk
DONE = b"data: [DONE]"


@dataclass
class Schedule:
    """When a stream's events are due, in seconds after its request was written (already scaled)."""

    ttft: float
    per_token: float
    # Content chunks a stream is expected to have (`max_tokens`): the schedule of an unfinished one.
    expected: int

    def offset(self, event: int, content_chunks: int) -> float:
        return self.ttft + (min(event, content_chunks) - 1) * self.per_token


@dataclass
class Tally:
    """Everything the load measures, shared by all connections."""

    schedule: Schedule
    lateness: array[float] = field(default_factory=lambda: array("d"))
    first_lateness: array[float] = field(default_factory=lambda: array("d"))
    started: int = 0
    completed: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    open_now: int = 0
    open_peak: int = 0
    events: int = 0
    body_bytes: int = 0
    content_chunks: set[int] = field(default_factory=set)
    # Chunks that had not arrived when the load was stopped, though due (see `StreamConnection.censor`).
    missing: int = 0
    live: set[StreamConnection] = field(default_factory=set)

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.errors[reason] = self.errors.get(reason, 0) + 1


class StreamConnection(asyncio.Protocol):
    """One keep-alive connection that sends streamed requests back to back until `stop_at`."""

    def __init__(self, tally: Tally, request: bytes, stop_at: float, closed: asyncio.Future[None]) -> None:
        self.tally = tally
        self.request = request
        self.stop_at = stop_at
        self.closed = closed
        self.transport: asyncio.Transport | None = None
        self.in_stream = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tally.live.add(self)
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.in_stream = True
        self.head = b""  # the response head, while it is incomplete
        self.head_done = False
        self.tail = b""
        self.arrivals: list[float] = []
        self.tally.started += 1
        self.tally.open_now += 1
        self.tally.open_peak = max(self.tally.open_peak, self.tally.open_now)
        self.sent_at = time.monotonic()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.in_stream:
            return self._abort("data between streams")
        if not self.head_done:
            head = self.head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self.head = head
                return None
            if not head.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")):
                return self._abort("status " + head[9:12].decode(errors="replace"))
            self.head_done = True
            data = head[end + 4 :]
        # An event ends with a blank line; one split between two reads is counted where it ends.
        count = data.count(b"\n\n")
        if self.tail.endswith(b"\n") and data.startswith(b"\n"):
            count += 1
        self.arrivals.extend([now] * count)
        self.tally.events += count
        self.tally.body_bytes += len(data)
        self.tail = (self.tail + data)[-32:]
        if self.tail.endswith(END_OF_BODY):
            self._finish()
        return None

    def _finish(self) -> None:
        tally, arrivals = self.tally, self.arrivals
        self.in_stream = False
        tally.open_now -= 1
        # Content chunks, then the finishing chunk and `data: [DONE]`.
        content = len(arrivals) - 2
        if content < 1 or not self.tail.endswith(DONE + b"\n\n" + END_OF_BODY):
            return self._abort("truncated stream")
        schedule = tally.schedule
        due = [self.sent_at + schedule.offset(event, content) for event in range(1, len(arrivals) + 1)]
        tally.lateness.extend([arrival - at for arrival, at in zip(arrivals, due, strict=True)])
        tally.first_lateness.append(arrivals[0] - due[0])
        tally.completed += 1
        tally.content_chunks.add(content)
        if time.monotonic() < self.stop_at:
            self._send()
        else:
            assert self.transport is not None
            self.transport.close()

    def _abort(self, reason: str) -> None:
        if self.in_stream:
            self.in_stream = False
            self.tally.open_now -= 1
        self.tally.fail(reason)
        if self.transport is not None:
            self.transport.abort()

    def censor(self, now: float) -> None:
        """Stop a stream cut short by the time limit; its chunks count, and so do the missing ones.

        Leaving unfinished streams out would keep the latest chunks out of the figures exactly when
        the server is too slow. A chunk that was due and never came counts as late by the time it
        had been due: a lower bound of its lateness.
        """
        if self.in_stream:
            schedule, arrivals = self.tally.schedule, self.arrivals
            expected = schedule.expected + 2
            for event in range(1, expected + 1):
                due = self.sent_at + schedule.offset(event, schedule.expected)
                if event <= len(arrivals):
                    self.tally.lateness.append(arrivals[event - 1] - due)
                elif due < now:
                    self.tally.lateness.append(now - due)
                    self.tally.missing += 1
            first_due = self.sent_at + schedule.ttft
            if arrivals or first_due < now:
                self.tally.first_lateness.append((arrivals[0] if arrivals else now) - first_due)
            self._abort("unfinished at the time limit")
        elif self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.live.discard(self)
        if self.in_stream:
            self.in_stream = False
            self.tally.open_now -= 1
            self.tally.fail(type(exc).__name__ if exc else "closed by server")
        if not self.closed.done():
            self.closed.set_result(None)


def http_request(host: str, port: int, body: bytes, key: str) -> bytes:
    head = (
        f"POST /chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connect(
    host: str, port: int, tally: Tally, request: bytes, stop_at: float, timeout: float
) -> asyncio.Future[None]:
    """Open one connection that streams until `stop_at`; the future is done when it has closed."""
    loop = asyncio.get_running_loop()
    closed: asyncio.Future[None] = loop.create_future()
    try:
        await asyncio.wait_for(
            loop.create_connection(lambda: StreamConnection(tally, request, stop_at, closed), host, port), timeout
        )
    except (OSError, TimeoutError) as exc:
        tally.fail(f"connect: {type(exc).__name__}")
        closed.set_result(None)
    return closed


class LoopLag:
    """How late this loop runs a callback that asks to run every `interval` seconds: the client's own delay."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags = array("d")
        self.running = True

    async def run(self) -> None:
        due = time.monotonic() + self.interval
        while self.running:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic()
            self.lags.append(now - due)
            due = max(due + self.interval, now)
