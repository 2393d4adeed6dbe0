"""The SSE decoder and the chunk rules, from hand-built byte streams."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract.client import APIStreamError, ChunkReader, IncompleteStreamError, SSEDecoder, StreamAnswer


def chunk(n: int, text: str, finish: str | None = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "c1",
        "model": "sonar",
        "created": n,
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish, "message": message, "delta": message}],
        "citations": [f"https://e.com/{n}"],
    }


def frames(*payloads: object) -> bytes:
    return b"".join(f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads)


STREAM = frames(chunk(1, "Hel"), chunk(2, "lo"), chunk(3, "", "stop"), "[DONE]")


def decode(pieces: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    return [event.data for piece in pieces for event in decoder.feed(piece)]


def test_events_split_at_every_byte_decode_the_same() -> None:
    whole = decode([STREAM])
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == whole
    assert len(whole) == 4 and whole[-1] == "[DONE]"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_and_a_crlf_split_between_chunks(newline: bytes) -> None:
    raw = b"data: a" + newline + newline + b"data: b" + newline + newline
    assert decode([raw]) == ["a", "b"]
    cut = raw.index(newline) + 1
    assert decode([raw[:cut], raw[cut:]]) == ["a", "b"]


def test_comments_keepalives_fields_and_multiline_data() -> None:
    raw = b": ping\n\n\n\nevent: note\nid: 7\nretry: 100\ndata: one\ndata:two\n\n"
    events = SSEDecoder().feed(raw)
    assert len(events) == 1
    assert (events[0].event, events[0].data, events[0].id, events[0].retry) == ("note", "one\ntwo", "7", 100)


def test_a_multibyte_character_split_across_chunks() -> None:
    raw = "data: café\n\n".encode()
    cut = raw.index("é".encode()) + 1
    assert decode([raw[:cut], raw[cut:]]) == ["café"]


def test_several_events_in_one_chunk_become_typed_chunks_and_an_answer() -> None:
    reader, answer = ChunkReader(), StreamAnswer()
    for item in reader.feed_all([STREAM]):
        answer.add(item)
    assert (answer.text, answer.finish_reason, answer.chunks) == ("Hello", "stop", 3)
    assert answer.citations == ["https://e.com/3"]


def test_nothing_after_done_is_read() -> None:
    assert len(list(ChunkReader().feed_all([STREAM + b"data: not json\n\n"]))) == 3


def test_a_stream_without_done_is_an_error_not_a_truncation() -> None:
    reader = ChunkReader()
    with pytest.raises(IncompleteStreamError, match="after 2 chunk") as caught:
        list(reader.feed_all([frames(chunk(1, "a"), chunk(2, "b"))]))
    assert caught.value.chunks == 2


def test_an_error_event_raises_with_the_envelope() -> None:
    envelope = {"error": {"message": "upstream failed", "type": "server_error", "code": 500}}
    raw = frames(chunk(1, "a")) + b"event: error\ndata: " + json.dumps(envelope).encode() + b"\n\n"
    with pytest.raises(APIStreamError, match="upstream failed") as caught:
        list(ChunkReader().feed_all([raw]))
    assert caught.value.error is not None and caught.value.error.error.code == 500


def test_an_error_envelope_in_plain_data_raises_too() -> None:
    raw = frames({"error": {"message": "bad", "type": "invalid_request", "code": 400}})
    with pytest.raises(APIStreamError, match="bad"):
        list(ChunkReader().feed_all([raw]))


def test_a_non_json_error_event_keeps_its_text() -> None:
    with pytest.raises(APIStreamError, match="boom"):
        list(ChunkReader().feed_all([b"event: error\ndata: boom\n\n"]))
