"""The event-stream response: framing, and stopping at once when the client goes away."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio
import pytest

from mock_server.sse import DONE, EventStream, Frame, data_frame

pytestmark = pytest.mark.anyio


def test_frames_are_single_data_lines() -> None:
    assert data_frame({"a": "é\nb"}) == b'data: {"a":"\xc3\xa9\\nb"}\n\n'
    assert DONE == b"data: [DONE]\n\n"


async def test_a_disconnect_stops_an_unpaced_stream_at_once() -> None:
    # At time scale 0 nothing in the send loop waits; the disconnect watcher must still get a turn.
    pulled = 0

    def frames() -> Iterator[Frame]:
        nonlocal pulled
        for _ in range(100_000):
            pulled += 1
            yield 0.0, b"data: {}\n\n"

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    closed: list[bool] = []
    stream = EventStream(frames(), time_scale=0, on_close=lambda: closed.append(True))
    await stream({"type": "http"}, receive, send)
    assert pulled < 10 and closed == [True]
    assert not any(message.get("more_body") is False for message in sent), "a cut stream is not ended cleanly"


async def test_a_connected_client_gets_every_frame_and_the_end() -> None:
    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await EventStream([(0.0, b"a"), (0.0, DONE)], time_scale=0)({"type": "http"}, receive, send)
    assert [m.get("body") for m in sent[1:]] == [b"a", DONE, b""]
    assert sent[0]["status"] == 200 and (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]
