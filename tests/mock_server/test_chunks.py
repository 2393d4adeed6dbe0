"""Streamed answers: SSE framing, both stream modes, and parity with the non-streamed answer."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contract.schemas import ChatCompletion
from mock_server.answers import plan_answer
from mock_server.chunks import full_frames
from mock_server.completion import Completion, assistant_message
from mock_server.pricing import compute_cost, growing_costs
from mock_server.sse import DONE, data_frame, encode_json
from mock_server.state import MockState
from mock_server.strictness import parse_chat
from tests.conftest import chat_body, make_app, sse_data
from tests.mock_server.test_chat import SEED_QUESTION, complete

pytestmark = pytest.mark.anyio


async def stream(client: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]" and "[DONE]" not in payloads[:-1]
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    for chunk in chunks:
        ChatCompletion.model_validate(chunk)
    assert response.headers["x-request-id"] == chunks[0]["id"]
    return chunks


@pytest.mark.parametrize("model", ["sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"])
async def test_full_mode_matches_the_json_answer(client: httpx.AsyncClient, model: str) -> None:
    body = chat_body(model, "Why is the sky blue at noon and red at sunset?")
    chunks = await stream(client, body)
    reference = await complete(client, body)
    final = chunks[-1]
    text = "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks)
    assert text == final["choices"][0]["message"]["content"] == reference["choices"][0]["message"]["content"]
    assert final["usage"] == reference["usage"]
    assert final["citations"] == reference["citations"]
    assert final["search_results"] == reference["search_results"]
    assert {chunk["id"] for chunk in chunks} == {chunks[0]["id"]}
    assert {chunk["object"] for chunk in chunks} == {"chat.completion"}


async def test_full_mode_chunks_are_cumulative(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, chat_body())
    text = ""
    for number, chunk in enumerate(chunks[:-1], start=1):
        choice = chunk["choices"][0]
        text += choice["delta"]["content"]
        assert choice["message"]["content"] == text
        assert choice["finish_reason"] is None
        assert chunk["usage"]["completion_tokens"] == number
        assert chunk["usage"]["cost"]["total_cost"] > 0
        assert chunk["citations"] == chunks[-1]["citations"]
    last = chunks[-1]["choices"][0]
    assert (last["delta"]["content"], last["finish_reason"]) == ("", "stop")


async def test_reasoning_arrives_inline_in_the_deltas(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, chat_body("sonar-reasoning-pro"))
    assert "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks[:5]).startswith("<think>")


async def test_max_tokens_cuts_the_stream(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, chat_body(max_tokens=16))
    assert len(chunks) == 17
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 16


async def test_concise_mode_has_its_four_chunk_kinds(client: httpx.AsyncClient) -> None:
    body = chat_body("sonar-pro", "How do solar panels degrade over time?", stream_mode="concise")
    chunks = await stream(client, body)
    kinds = [chunk["object"] for chunk in chunks]
    reasoning = kinds.index("chat.reasoning.done")
    assert kinds[:reasoning] == ["chat.reasoning"] * reasoning and reasoning >= 1
    assert kinds[reasoning + 1 : -1] == ["chat.completion.chunk"] * (len(kinds) - reasoning - 2)
    assert kinds[-1] == "chat.completion.done"

    done_reasoning, done = chunks[reasoning], chunks[-1]
    reference = await complete(client, {**body, "stream_mode": "full"})
    assert done_reasoning["search_results"] == reference["search_results"]
    assert done_reasoning["usage"]["completion_tokens"] == 0
    for chunk in chunks[reasoning + 1 : -1]:
        assert chunk["choices"][0]["message"]["content"] == ""
        assert "usage" not in chunk
    text = "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks[reasoning + 1 : -1])
    assert text == done["choices"][0]["message"]["content"] == reference["choices"][0]["message"]["content"]
    assert done["usage"] == reference["usage"]
    assert (done["status"], done["type"]) == ("COMPLETED", "end_of_stream")
    assert done["choices"][0]["message"]["reasoning_steps"][0]["type"] == "web_search"


async def test_deep_research_shows_a_bare_reasoning_stage(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, chat_body("sonar-deep-research", stream_mode="concise"))
    assert chunks[0]["object"] == "chat.reasoning.done"
    assert chunks[0]["search_results"] and chunks[0]["choices"][0]["message"]["reasoning_steps"] is None


async def test_fixture_body_streams_with_its_recorded_usage(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, chat_body("sonar-pro", SEED_QUESTION))
    counts = [chunk["usage"]["completion_tokens"] for chunk in chunks]
    assert counts == sorted(counts) and counts[-1] == 587
    assert chunks[-1]["usage"]["cost"]["total_cost"] == 0.01489
    assert "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks).startswith("LLM inference throughput")


@pytest.mark.parametrize("extra", [{}, {"return_images": True, "return_related_questions": True}])
async def test_full_mode_chunks_are_the_canonical_encoding_in_the_chunk_key_order(
    client: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    # Chunks are spliced around pre-encoded parts: the bytes must be exactly what encoding the
    # whole chunk gives, keys in the order of a whole chunk.
    response = await client.post("/chat/completions", json=chat_body(stream=True, max_tokens=20, **extra))
    payloads = sse_data(response.text)[:-1]
    for payload in payloads:
        chunk = json.loads(payload)
        assert payload == json.dumps(chunk, separators=(",", ":"), ensure_ascii=False)
    keys = list(json.loads(payloads[0]))
    assert keys == [
        "id",
        "choices",
        "created",
        "model",
        "citations",
        "object",
        "search_results",
        "status",
        "type",
        "usage",
    ]


def planned(body: dict[str, Any]) -> Completion:
    state: MockState = make_app().state.mock
    chat, spec = parse_chat(state, body)
    completion = plan_answer(state, body, chat, spec, 1.8e9).completion
    assert completion is not None
    return completion


def whole_chunk_frames(completion: Completion, created: int, chunk_object: str) -> list[bytes]:
    """The full-mode frames built as whole dicts and encoded, as the spliced ones must come out."""
    frames = []
    text = ""
    for sent, piece in enumerate(completion.pieces, start=1):
        text += piece
        choice = {
            "delta": assistant_message(piece),
            "index": 0,
            "message": assistant_message(text),
            "finish_reason": None,
        }
        chunk = {
            "id": completion.id,
            "choices": [choice],
            "created": created,
            "model": completion.model,
            "citations": completion.citations,
            "object": chunk_object,
            "search_results": completion.search_results,
            "status": None,
            "type": None,
            "usage": completion.usage(sent),
        }
        frames.append(data_frame(chunk))
    final = {**completion.body(created), "object": chunk_object}
    return [*frames, data_frame(final), DONE]


@pytest.mark.parametrize("model", ["sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"return_images": True, "return_related_questions": True, "max_tokens": 30},
        {"web_search_options": {"search_context_size": "high"}},
    ],
)
def test_spliced_frames_are_the_whole_chunks_encoded(model: str, extra: dict[str, Any]) -> None:
    question = 'Qué dice "el informe"?\n\tÜber €5 — and why?'
    completion = planned(chat_body(model, question, **extra))
    for chunk_object in ("chat.completion", "chat.completion.chunk"):
        frames = [frame for _, frame in full_frames(completion, lambda offset: 1_800_000_000, 0.5, 0.01, chunk_object)]
        assert frames == whole_chunk_frames(completion, 1_800_000_000, chunk_object)
    assert completion.encode_body(7) == encode_json(completion.body(7))


def test_growing_costs_are_compute_costs() -> None:
    completion = planned(chat_body("sonar-deep-research", "Why is the sky blue?"))
    costs = growing_costs(completion.spec, completion.token_counts(0), "medium", False)
    for tokens in (0, 1, 7, 50, 587, 12345):
        cost = compute_cost(completion.spec, completion.token_counts(tokens), "medium", False)
        assert costs(tokens) == (cost["output_tokens_cost"], cost["total_cost"])
