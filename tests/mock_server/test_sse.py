"""The event-stream response: framing, and stopping at once when the client goes away."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import anyio
import pytest

from mock_server.sse import DONE, EVENTS_KEY, EventStream, Frame, data_frame, events_of

pytestmark = pytest.mark.anyio


class CountingFrames:
    """A long unpaced stream of frames that counts how many the sender pulled."""

    def __init__(self, count: int = 100_000) -> None:
        self.count = count
        self.pulled = 0

    def __iter__(self) -> Iterator[Frame]:
        for _ in range(self.count):
            self.pulled += 1
            yield 0.0, b"data: {}\n\n"


async def stays_connected() -> dict[str, Any]:
    await anyio.sleep_forever()
    raise AssertionError


async def messages_of(
    stream: EventStream, on_send: Callable[[MutableMapping[str, Any]], None] | None = None
) -> list[MutableMapping[str, Any]]:
    """What `stream` sends to a client that stays connected; `on_send` sees each message as it goes."""
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if on_send is not None:
            on_send(message)

    await stream({"type": "http"}, stays_connected, send)
    return sent


def test_frames_are_single_data_lines() -> None:
    assert data_frame({"a": "é\nb"}) == b'data: {"a":"\xc3\xa9\\nb"}\n\n'
    assert DONE == b"data: [DONE]\n\n"


async def test_a_disconnect_stops_an_unpaced_stream_at_once() -> None:
    # At time scale 0 nothing in the send loop waits; the disconnect watcher must still get a turn.
    frames = CountingFrames()

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    closed: list[bool] = []
    stream = EventStream(frames, time_scale=0, on_close=lambda: closed.append(True))
    await stream({"type": "http"}, receive, send)
    assert frames.pulled < 10 and closed == [True]
    assert not any(message.get("more_body") is False for message in sent), "a cut stream is not ended cleanly"


async def test_a_connected_client_gets_every_frame_and_the_end() -> None:
    sent = await messages_of(EventStream([(0.0, b"a"), (0.0, DONE)], time_scale=0))
    assert [m.get("body") for m in sent[1:]] == [b"a", DONE, b""]
    assert sent[0]["status"] == 200 and (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]


async def test_at_time_scale_0_a_batching_stream_sends_its_frames_in_few_messages() -> None:
    frames = [(0.0, b"data: {%d}\n\n" % number) for number in range(1000)] + [(0.0, DONE)]
    sent = await messages_of(EventStream(frames, time_scale=0, batch_bytes=1000))
    bodies = sent[1:-1]
    assert b"".join(m["body"] for m in bodies) == b"".join(frame for _, frame in frames)
    assert [event for m in bodies for event in events_of(m)] == [frame for _, frame in frames]
    assert all(m["body"] == b"".join(m[EVENTS_KEY]) and len(m["body"]) < 1000 + 20 for m in bodies)
    assert len(bodies) < 20 and sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_paced_stream_never_batches() -> None:
    sent = await messages_of(EventStream([(0.0, b"a"), (0.0, b"b"), (0.0, DONE)], time_scale=0.001, batch_bytes=1000))
    assert [m.get("body") for m in sent[1:]] == [b"a", b"b", DONE, b""]
    assert not any(EVENTS_KEY in m for m in sent)


async def test_a_stream_behind_schedule_sends_its_overdue_frames_together() -> None:
    # A slow write (an overloaded mock) puts the stream 0.35 s behind: the frames already more than
    # CATCH_UP_SECONDS overdue go out with the next one; frames not yet overdue still go alone.
    now = [0.0]
    write_seconds = [0.35, 0.1, 0.0]

    def slow_write(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and message["more_body"]:
            now[0] += write_seconds.pop(0)

    frames = [(0.0, b"a"), (0.1, b"b"), (0.2, b"c"), (0.3, b"d"), (0.4, DONE)]
    stream = EventStream(frames, time_scale=1, batch_bytes=1000, clock=lambda: now[0])
    sent = await messages_of(stream, on_send=slow_write)
    assert [m.get("body") for m in sent[1:]] == [b"a", b"bcd", DONE, b""]
    assert [events_of(m) for m in sent[1:4]] == [[b"a"], [b"b", b"c", b"d"], [DONE]]


async def test_a_batching_stream_stops_within_a_batch_of_a_disconnect() -> None:
    frames = CountingFrames()

    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if len(sent) == 3:
            gone.set()  # the client leaves after the second batch

    closed: list[bool] = []
    stream = EventStream(frames, time_scale=0, on_close=lambda: closed.append(True), batch_bytes=100)
    await stream({"type": "http"}, receive, send)
    # 10 frames a batch: the batch being made when the client left is the last one pulled.
    assert frames.pulled <= 30 and closed == [True]
    assert not any(message.get("more_body") is False for message in sent)


def test_events_of_a_message() -> None:
    assert events_of({"type": "http.response.body", "body": b"data: 1\n\n"}) == [b"data: 1\n\n"]
    assert events_of({"type": "http.response.body", "body": b"", "more_body": False}) == []
    batch = {"type": "http.response.body", "body": b"ab", EVENTS_KEY: [b"a", b"b"]}
    assert events_of(batch) == [b"a", b"b"]
