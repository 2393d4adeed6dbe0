"""The chunks of a streamed chat completion, in both stream modes, with their time offsets.

`stream_mode: "full"` (default): every chunk is a whole completion object; `delta` holds the new
piece, `message` the text so far, `usage` is cumulative and carries `cost`, and citations and
search results ride on every chunk (all observed). A final chunk with an empty delta carries
`finish_reason`. `object` is `chat.completion`, the observed value, unless the caller asks for the
documented `chat.completion.chunk`.

`stream_mode: "concise"`: `chat.reasoning` steps, one `chat.reasoning.done`, then
`chat.completion.chunk` deltas (no aggregation) and a `chat.completion.done` with the full
message, search results and final usage (documented).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mock_server.completion import Completion, assistant_message
from mock_server.sse import DONE, Frame, data_frame, encode_json


def _chunk(completion: Completion, created: int, choice: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": completion.id, "choices": [choice], "created": created, "model": completion.model, **fields}


def _choice(delta: dict[str, Any], message: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"delta": delta, "index": 0, "message": message, "finish_reason": finish_reason}


def full_frames(
    completion: Completion,
    created_at: Callable[[float], int],
    first_token: float,
    per_token: float,
    chunk_object: str = "chat.completion",
) -> Iterator[Frame]:
    text = ""
    offset = first_token
    shared = {
        "citations": completion.citations,
        "object": chunk_object,
        "search_results": completion.search_results,
    }
    # Every chunk repeats the same citations and search results (kilobytes): they are encoded
    # once, and each chunk's bytes are spliced around them in the key order of a whole chunk
    # (id, choices, created, model, citations, object, search_results, status, type, usage).
    head = b'data: {"id":' + encode_json(completion.id) + b',"choices":'
    middle = b',"model":' + encode_json(completion.model) + b"," + encode_json(shared)[1:-1]
    middle += b',"status":null,"type":null,"usage":'
    for sent, piece in enumerate(completion.pieces, start=1):
        text += piece
        offset = first_token + (sent - 1) * per_token
        choices = encode_json([_choice(assistant_message(piece), assistant_message(text))])
        created = str(created_at(offset)).encode()
        usage = encode_json(completion.usage(sent))
        yield offset, head + choices + b',"created":' + created + middle + usage + b"}\n\n"
    final = _chunk(
        completion,
        created_at(offset),
        _choice(assistant_message(""), assistant_message(text), completion.finish_reason),
        **shared,
    )
    if completion.images is not None:
        final["images"] = completion.images
    if completion.related_questions is not None:
        final["related_questions"] = completion.related_questions
    final.update({"status": None, "type": None, "usage": completion.usage()})
    yield offset, data_frame(final)
    yield offset, DONE


def concise_frames(
    completion: Completion, created_at: Callable[[float], int], first_token: float, per_token: float
) -> Iterator[Frame]:
    steps = completion.reasoning_steps
    # Reasoning happens before the first answer token; spread its steps over that time.
    for number, step in enumerate(steps, start=1):
        offset = first_token * number / (len(steps) + 2)
        delta = assistant_message("", [step])
        message = assistant_message("", steps[:number])
        chunk = _chunk(completion, created_at(offset), _choice(delta, message), object="chat.reasoning", type="message")
        yield offset, data_frame(chunk)
    offset = first_token * (len(steps) + 1) / (len(steps) + 2)
    done_reasoning = _chunk(
        completion,
        created_at(offset),
        _choice(assistant_message(""), assistant_message("", steps or None)),
        object="chat.reasoning.done",
        search_results=completion.search_results,
        images=completion.images or [],
        usage=completion.usage(0),
    )
    yield offset, data_frame(done_reasoning)
    text = ""
    for sent, piece in enumerate(completion.pieces, start=1):
        text += piece
        offset = first_token + (sent - 1) * per_token
        delta = {"role": "assistant", "content": piece}
        chunk = _chunk(
            completion, created_at(offset), _choice(delta, assistant_message("")), object="chat.completion.chunk"
        )
        yield offset, data_frame(chunk)
    done = _chunk(
        completion,
        created_at(offset),
        _choice(assistant_message(""), assistant_message(text, steps or None), completion.finish_reason),
        object="chat.completion.done",
        search_results=completion.search_results,
        images=completion.images or [],
        usage=completion.usage(),
        status="COMPLETED",
        type="end_of_stream",
    )
    if completion.related_questions is not None:
        done["related_questions"] = completion.related_questions
    yield offset, data_frame(done)
    yield offset, DONE
