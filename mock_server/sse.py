"""Server-sent events: the frame encoder and a finite, paced, disconnect-aware response.

Each event is one `data: <single-line JSON>` line and a blank line; the stream ends with
`data: [DONE]`. When the client goes away the sender is cancelled at once, whatever it was
waiting for, and nothing is left running.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.types import Receive, Scope, Send

DONE = b"data: [DONE]\n\n"

# (seconds after the request started, bytes to send)
Frame = tuple[float, bytes]


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def data_frame(payload: Any) -> bytes:
    return b"data: " + encode_json(payload) + b"\n\n"


class EventStream:
    """An ASGI response that sends `frames` at their offsets scaled by `time_scale`."""

    def __init__(
        self,
        frames: Iterable[Frame],
        time_scale: float,
        headers: dict[str, str] | None = None,
        on_open: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.frames = frames
        self.time_scale = time_scale
        self.headers = headers or {}
        self.on_open = on_open
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        started = time.monotonic()
        for offset, frame in self.frames:
            delay = started + offset * self.time_scale - time.monotonic() if self.time_scale > 0 else 0
            if delay > 0:
                await anyio.sleep(delay)
            else:
                # Without a pause the disconnect watcher would never run: yield to it once a frame.
                await anyio.lowlevel.checkpoint()
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
