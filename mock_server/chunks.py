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
from json.encoder import encode_basestring
from typing import Any

from mock_server.completion import Completion, assistant_message
from mock_server.pricing import build_usage, growing_costs
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
    offset = first_token
    shared = {
        "citations": completion.citations,
        "object": chunk_object,
        "search_results": completion.search_results,
    }
    # Every chunk repeats the same citations and search results (kilobytes): they are encoded
    # once, and each chunk's bytes are spliced around them in the key order of a whole chunk
    # (id, choices, created, model, citations, object, search_results, status, type, usage).
    head = b'data: {"id":' + encode_json(completion.id) + b',"choices":[{"delta":{"content":'
    middle = b',"model":' + encode_json(completion.model) + b"," + encode_json(shared)[1:-1]
    middle += b',"status":null,"type":null,"usage":'
    # The choice, spliced too: `delta` and `message` are assistant messages that differ only in
    # their content, and the text so far is escaped a piece at a time (JSON escapes each
    # character on its own, so the escaped pieces join into the escaped text).
    message_tail = encode_json(assistant_message("")).removeprefix(b'{"content":""')
    between = message_tail + b',"index":0,"message":{"content":"'
    after = b'"' + message_tail + b',"finish_reason":null}],"created":'
    usage = _usage_encoder(completion)
    text = b""
    for sent, piece in enumerate(completion.pieces, start=1):
        escaped = encode_basestring(piece).encode()
        text += escaped[1:-1]
        offset = first_token + (sent - 1) * per_token
        created = str(created_at(offset)).encode()
        yield offset, b"".join((head, escaped, between, text, after, created, middle, usage(sent), b"}\n\n"))
    # The last chunk is the whole body under the chunk object, with an empty delta.
    yield offset, b"data: " + completion.encode_body(created_at(offset), chunk_object) + b"\n\n"
    yield offset, DONE


def _usage_encoder(completion: Completion) -> Callable[[int], bytes]:
    """`encode_json(completion.usage(sent))` for each chunk: the usage is built and encoded once as a
    %-format template, and only the four numbers that grow with the completion tokens are computed
    and formatted in (building and encoding the whole usage was about half of a chunk's cost)."""
    if completion.recorded_usage is not None:
        # A recorded usage has the shape it was recorded with.
        return lambda sent: encode_json(completion.usage(sent))
    counts = completion.token_counts(0)
    usage = build_usage(completion.spec, counts, completion.search_context_size, completion.pro_search)
    # Marks where the growing numbers go: %d writes an int and %r a float's repr, which is what
    # json.dumps writes for them. The template takes them in the order they appear in the usage.
    ints = {name: "\x00int" for name in ("completion_tokens", "total_tokens")}
    floats = {name: "\x00float" for name in ("output_tokens_cost", "total_cost")}
    template = encode_json({**usage, **ints, "cost": {**usage["cost"], **floats}}).replace(b"%", b"%%")
    template = template.replace(encode_json("\x00int"), b"%d").replace(encode_json("\x00float"), b"%r")
    costs = growing_costs(completion.spec, counts, completion.search_context_size, completion.pro_search)
    prompt_tokens = completion.prompt_tokens

    def encode(sent: int) -> bytes:
        tokens = completion.tokens_after(sent)
        output_cost, total_cost = costs(tokens)
        return template % (tokens, output_cost, total_cost, prompt_tokens + tokens)

    return encode


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
