"""Server-sent events: the frame encoder and a finite, paced, disconnect-aware response.

Each event is one `data: <single-line JSON>` line and a blank line; the stream ends with
`data: [DONE]`. When the client goes away the sender is cancelled at once, whatever it was
waiting for, and nothing is left running.

At time scale 0 every frame is due at once, and a stream may send its frames in batches (one
body message for many events: `batch_bytes`). A paced stream sends each frame on its own while it
keeps to its schedule; when the mock is overloaded and a stream falls more than `CATCH_UP_SECONDS`
behind, the frames already overdue go out together, as TCP would deliver them anyway, so an
overloaded mock catches up instead of falling further behind with every frame. A batched message
lists its events under `EVENTS_KEY`, so that middleware that counts or alters events (the
journal, stream faults) still sees each one; `events_of` reads them from any body message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.types import Message, Receive, Scope, Send

from mock_server.connection import transport_of

DONE = b"data: [DONE]\n\n"

# (seconds after the request started, bytes to send)
Frame = tuple[float, bytes]
# The key of a body message that carries several events: the list of their frames.
EVENTS_KEY = "pplx_mock.events"
# What a chat stream batches at time scale 0: large enough that a stream of kilobyte chunks goes
# out in a few writes, small enough that a disconnect is noticed after at most this much.
BATCH_BYTES = 64 * 1024
# How far behind its schedule a frame must be before a paced stream sends it with the next one.
CATCH_UP_SECONDS = 0.01
# A paced stream catches up in messages of about this size: when the client reads slower than the
# mock sends, each connection buffers up to its write limit plus one message, times every stream.
CATCH_UP_BYTES = 8 * 1024
# The write buffer of a stream's connection (asyncio's default is 64 KiB): a stream waits for its
# client beyond this, so 10,000 streams to slow readers hold about 10,000 x 24 KiB, not 1 GiB.
STREAM_WRITE_BUFFER_BYTES = 16 * 1024


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def encode_string(text: str) -> bytes:
    """`encode_json(text)` for a string; ids and model names need no escaping and skip the encoder."""
    if text.replace("-", "").isalnum():
        return b'"' + text.encode() + b'"'
    return encode_json(text)


def data_frame(payload: Any) -> bytes:
    return b"data: " + encode_json(payload) + b"\n\n"


def events_of(message: Message) -> list[bytes]:
    """The events a body message carries: those it lists, or its body as one event (none when empty)."""
    events: list[bytes] | None = message.get(EVENTS_KEY)
    if events is not None:
        return events
    body: bytes = message.get("body", b"")
    return [body] if body else []


class EventStream:
    """An ASGI response that sends `frames` at their offsets scaled by `time_scale`."""

    def __init__(
        self,
        frames: Iterable[Frame],
        time_scale: float,
        headers: dict[str, str] | None = None,
        on_open: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
        batch_bytes: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.frames = frames
        # What pacing is measured by; tests give their own.
        self.clock = clock
        self.time_scale = time_scale
        # At time scale 0, frames are sent in messages of about this many bytes; 0: one per frame.
        self.batch_bytes = batch_bytes
        self.headers = headers or {}
        self.on_open = on_open
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = transport_of(scope)
        if transport is not None:
            transport.set_write_buffer_limits(high=STREAM_WRITE_BUFFER_BYTES)
        if self.on_open is not None:
            self.on_open()
        try:
            async with anyio.create_task_group() as group:

                async def watch_for_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(watch_for_disconnect)
                await self._send_all(send)
                group.cancel_scope.cancel()
        except OSError:
            # The socket went away between our check and the write: the client is gone.
            pass
        finally:
            if self.on_close is not None:
                self.on_close()

    async def _send_all(self, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
        headers += [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in self.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if self.time_scale == 0 and self.batch_bytes > 0:
            await self._send_batches(send)
        else:
            await self._send_paced(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_paced(self, send: Send) -> None:
        sleep = cheapest_sleep()
        catch_up_bytes = min(self.batch_bytes, CATCH_UP_BYTES)
        started = self.clock()
        frames = iter(self.frames)
        following = next(frames, None)
        while following is not None:
            offset, frame = following
            delay = started + offset * self.time_scale - self.clock() if self.time_scale > 0 else 0
            # Without a pause the disconnect watcher would never run: yield to it once a frame.
            await sleep(delay if delay > 0 else 0)
            events = [frame]
            size = len(frame)
            # Frames long overdue (an overloaded mock) join this one, up to a batch's size.
            overdue = self.clock() - started - CATCH_UP_SECONDS
            following = next(frames, None)
            while following is not None and following[0] * self.time_scale < overdue and size < catch_up_bytes:
                events.append(following[1])
                size += len(following[1])
                following = next(frames, None)
            if len(events) == 1:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            else:
                body = b"".join(events)
                await send({"type": "http.response.body", "body": body, "more_body": True, EVENTS_KEY: events})

    async def _send_batches(self, send: Send) -> None:
        # Every frame is due now: one message per batch saves the server a write (and each
        # middleware a call) per frame, which is most of what an unpaced frame costs.
        frames = iter(self.frames)
        while True:
            # The disconnect watcher gets its turn before each batch is made, so a gone client
            # costs at most one more batch.
            await anyio.lowlevel.checkpoint()
            events: list[bytes] = []
            size = 0
            for _, frame in frames:
                events.append(frame)
                size += len(frame)
                if size >= self.batch_bytes:
                    break
            if not events:
                return
            await send({"type": "http.response.body", "body": b"".join(events), "more_body": True, EVENTS_KEY: events})


def cheapest_sleep() -> Callable[[float], Awaitable[None]]:
    """The running event loop's own sleep: `anyio.sleep` and `anyio.lowlevel.checkpoint` look the
    loop up on every call, about 2 µs of the 12 a paced frame costs the mock in-process."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.sleep  # another event loop (trio): anyio's, whatever it costs
    return asyncio.sleep
