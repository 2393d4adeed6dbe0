"""The official `perplexityai` SDK against the chat-completions mock, strict response validation on.

Every body and every SSE chunk the mock sends must parse as the SDK's own types (`StreamChunk`, the
SDK's single type for answers and chunks in both stream modes). The sync client talks to a real
socket; the async client talks to a socket and, in-process, to the app through httpx's ASGI
transport. Prices and rules come from the API dossier (§4, §5, §14), not from the mock's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import httpx
import jsonschema
import perplexity
import pytest
from perplexity import AsyncPerplexity, Perplexity
from perplexity.generated.api import StreamChunk, UsageInfo
from pydantic import BaseModel

from tests.conftest import SEED2_COST, TEST_KEY, LiveServer, make_app

MODELS = ("sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research")
QUESTION = "How do heat pumps keep working in very cold climates?"
# Dossier §14.1: USD per 1M input and output tokens, and the request fee per 1K requests at the
# default `low` search context (deep research has no request fee but three extra lines).
PRICES: dict[str, tuple[int, int, int | None]] = {
    "sonar": (1, 1, 5),
    "sonar-pro": (3, 15, 6),
    "sonar-reasoning-pro": (2, 8, 6),
    "sonar-deep-research": (2, 8, None),
}
SEED_QUESTION = (
    "Explain what factors determine LLM inference throughput on accelerators: "
    "memory bandwidth, KV-cache size, batching, and quantization."
)
# Drops the client's Authorization header (the SDK types declare `str | None` values only).
NO_KEY: dict[str, Any] = {"Authorization": perplexity.Omit()}
THINK = re.compile(r"<think>\n.+?\n</think>\n\S", re.DOTALL)

StreamMode = Literal["full", "concise"]


def ask(question: str = QUESTION) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def extras(model: BaseModel) -> dict[str, Any]:
    """The fields the SDK's types do not declare (images, related_questions)."""
    assert model.model_extra is not None
    return model.model_extra


def expected_cost(model: str, usage: UsageInfo) -> dict[str, float | None]:
    """`usage.cost` by the documented formula: each line rounded to 5 decimals, the total from the exact sum."""
    input_price, output_price, fee = PRICES[model]
    parts: dict[str, float | None] = {
        "input_tokens_cost": usage.prompt_tokens * input_price / 1e6,
        "output_tokens_cost": usage.completion_tokens * output_price / 1e6,
        "request_cost": None if fee is None else fee / 1000,
        "citation_tokens_cost": None,
        "reasoning_tokens_cost": None,
        "search_queries_cost": None,
    }
    if model == "sonar-deep-research":
        assert usage.citation_tokens and usage.reasoning_tokens and usage.num_search_queries
        parts["citation_tokens_cost"] = usage.citation_tokens * 2 / 1e6
        parts["reasoning_tokens_cost"] = usage.reasoning_tokens * 3 / 1e6
        parts["search_queries_cost"] = usage.num_search_queries * 5 / 1000
    total = sum(value for value in parts.values() if value is not None)
    rounded = {key: None if value is None else round(value, 5) for key, value in parts.items()}
    return {**rounded, "total_cost": round(total, 5)}


def check_answer(answer: StreamChunk, model: str) -> None:
    assert isinstance(answer, StreamChunk)
    assert (answer.model, answer.object) == (model, "chat.completion")
    choice = answer.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert bool(THINK.match(choice.message.content)) == (model == "sonar-reasoning-pro")
    assert choice.delta.content == ""
    assert answer.search_results and answer.citations == [result.url for result in answer.search_results]
    usage = answer.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.cost.model_dump() == expected_cost(model, usage)


def check_full_stream(chunks: list[StreamChunk], answer: StreamChunk) -> None:
    """Default mode: whole objects, `message` aggregated server-side, cumulative usage with cost."""
    assert all(isinstance(chunk, StreamChunk) for chunk in chunks)
    assert {chunk.id for chunk in chunks} == {chunks[0].id} and chunks[0].id != answer.id
    assert {chunk.object for chunk in chunks} == {"chat.completion"}
    text = ""
    for chunk in chunks:
        choice = chunk.choices[0]
        assert isinstance(choice.delta.content, str)
        text += choice.delta.content
        assert choice.message.content == text
        assert chunk.citations == answer.citations and chunk.search_results == answer.search_results
        assert chunk.usage is not None and chunk.usage.cost.total_cost > 0
    assert [chunk.choices[0].finish_reason for chunk in chunks[:-1]] == [None] * (len(chunks) - 1)
    tokens = [chunk.usage.completion_tokens for chunk in chunks if chunk.usage is not None]
    assert tokens == sorted(tokens) and tokens[0] == 1
    last, expected = chunks[-1], answer.choices[0]
    assert last.choices[0].finish_reason == expected.finish_reason and last.choices[0].delta.content == ""
    assert text == expected.message.content
    assert last.usage == answer.usage


def check_concise_stream(chunks: list[StreamChunk], answer: StreamChunk, model: str) -> None:
    """Concise mode: reasoning steps, `chat.reasoning.done`, bare deltas, then `chat.completion.done`."""
    assert all(isinstance(chunk, StreamChunk) for chunk in chunks)
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    kinds = [chunk.object for chunk in chunks]
    steps, deltas = kinds.count("chat.reasoning"), kinds.count("chat.completion.chunk")
    assert kinds == [
        *["chat.reasoning"] * steps,
        "chat.reasoning.done",
        *["chat.completion.chunk"] * deltas,
        "chat.completion.done",
    ]
    # Deep research does not expose its reasoning: a bare reasoning stage (dossier §4.3).
    assert (steps == 0) == (model == "sonar-deep-research")
    reasoning, done_reasoning = chunks[:steps], chunks[steps]
    thoughts = [step for chunk in reasoning for step in chunk.choices[0].delta.reasoning_steps or []]
    assert len(thoughts) == steps and all(step.thought for step in thoughts)
    assert done_reasoning.choices[0].message.reasoning_steps == (thoughts or None)
    assert done_reasoning.search_results == answer.search_results
    assert done_reasoning.usage is not None and answer.usage is not None
    assert done_reasoning.usage.completion_tokens == 0
    assert done_reasoning.usage.prompt_tokens == answer.usage.prompt_tokens
    pieces = chunks[steps + 1 : -1]
    assert all(chunk.choices[0].message.content == "" for chunk in pieces), "concise deltas are not aggregated"
    text = "".join(str(chunk.choices[0].delta.content) for chunk in pieces)
    done = chunks[-1]
    assert (done.status, done.type, done.choices[0].finish_reason) == ("COMPLETED", "end_of_stream", "stop")
    assert text == done.choices[0].message.content == answer.choices[0].message.content
    assert done.choices[0].message.reasoning_steps == (thoughts or None)
    assert done.search_results == answer.search_results
    assert done.usage == answer.usage


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[Perplexity]:
    with Perplexity(
        api_key=TEST_KEY, base_url=live_server.base_url, _strict_response_validation=True, max_retries=0
    ) as client:
        yield client


@pytest.fixture(params=["socket", "in-process"])
async def aclient(request: pytest.FixtureRequest, live_server: LiveServer) -> AsyncIterator[AsyncPerplexity]:
    options: dict[str, Any] = {"api_key": TEST_KEY, "_strict_response_validation": True, "max_retries": 0}
    if request.param == "socket":
        async with AsyncPerplexity(base_url=live_server.base_url, **options) as client:
            yield client
        return
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://mock")
    async with http, AsyncPerplexity(base_url="http://mock", http_client=http, **options) as client:
        yield client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_answers_with_its_cost(client: Perplexity, model: str) -> None:
    check_answer(client.chat.completions.create(model=model, messages=ask()), model)


@pytest.mark.parametrize("model", MODELS)
def test_sync_streams_match_the_answer(client: Perplexity, model: str) -> None:
    answer = client.chat.completions.create(model=model, messages=ask())
    check_answer(answer, model)
    check_full_stream(list(client.chat.completions.create(model=model, messages=ask(), stream=True)), answer)
    concise = client.chat.completions.create(model=model, messages=ask(), stream=True, stream_mode="concise")
    check_concise_stream(list(concise), answer, model)


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS)
async def test_async_streams_match_the_answer(aclient: AsyncPerplexity, model: str) -> None:
    answer = await aclient.chat.completions.create(model=model, messages=ask())
    check_answer(answer, model)
    full = await aclient.chat.completions.create(model=model, messages=ask(), stream=True)
    check_full_stream([chunk async for chunk in full], answer)
    concise = await aclient.chat.completions.create(model=model, messages=ask(), stream=True, stream_mode="concise")
    check_concise_stream([chunk async for chunk in concise], answer, model)


def final_of(client: Perplexity, mode: StreamMode | None, **request: Any) -> StreamChunk:
    """The answer, or the last chunk of a stream of it in `mode`."""
    if mode is None:
        answer: StreamChunk = client.chat.completions.create(**request)
        return answer
    return list(client.chat.completions.create(**request, stream=True, stream_mode=mode))[-1]


@pytest.mark.parametrize("mode", [None, "full", "concise"])
def test_seed_fixture_bills_the_recorded_cost(client: Perplexity, mode: StreamMode | None) -> None:
    final = final_of(client, mode, model="sonar-pro", messages=ask(SEED_QUESTION))
    assert str(final.choices[0].message.content).startswith("LLM inference throughput on accelerators")
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.total_tokens) == (27, 587, 614)
    assert final.usage.search_context_size == "low"
    assert final.usage.cost.model_dump() == SEED2_COST
    assert final.search_results is not None and len(final.search_results) == 9
    assert final.id != "a73cb0f7-3b89-4488-84b1-d5f2d7cc0a55", "a replayed body gets a fresh id"


@pytest.mark.parametrize("mode", [None, "full", "concise"])
def test_images_and_related_questions_when_asked(client: Perplexity, mode: StreamMode | None) -> None:
    final = final_of(
        client, mode, model="sonar-pro", messages=ask(), return_images=True, num_images=3, return_related_questions=True
    )
    images = extras(final)["images"]
    assert len(images) == 3
    for image in images:
        assert set(image) >= {"image_url", "origin_url", "title", "width", "height"}
        assert image["image_url"].startswith("https://") and image["width"] > 0 and image["height"] > 0
    questions = extras(final)["related_questions"]
    assert questions and all(isinstance(question, str) and question.strip() for question in questions)


def test_no_images_or_related_questions_unless_asked(client: Perplexity) -> None:
    answer = client.chat.completions.create(model="sonar-pro", messages=ask())
    assert "images" not in extras(answer) and "related_questions" not in extras(answer)


@pytest.mark.parametrize("model", MODELS)
def test_max_tokens_cuts_the_answer(client: Perplexity, model: str) -> None:
    answer = client.chat.completions.create(model=model, messages=ask(), max_tokens=24)
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 24
    chunks = list(client.chat.completions.create(model=model, messages=ask(), max_tokens=24, stream=True))
    deltas = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices[0].delta.content]
    assert len(deltas) == 24 and "".join(map(str, deltas)) == answer.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "length" and chunks[-1].usage == answer.usage


class Address(BaseModel):
    city: str
    country_code: str


class Player(BaseModel):
    name: str
    position: Literal["guard", "forward", "center"]
    height_cm: int
    nicknames: list[str]
    address: Address
    rating: float | None = None


SCHEMAS: dict[str, dict[str, Any]] = {
    "nested-objects": {
        "type": "object",
        "properties": {
            "company": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 2, "maxLength": 40},
                    "headquarters": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
                        },
                        "required": ["city", "country_code"],
                        "additionalProperties": False,
                    },
                },
                "required": ["name", "headquarters"],
                "additionalProperties": False,
            },
            "founded": {"type": "integer", "minimum": 1800, "maximum": 2025},
        },
        "required": ["company", "founded"],
        "additionalProperties": False,
    },
    "arrays": {
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 2,
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "properties": {"order": {"type": "integer", "minimum": 1}, "action": {"type": "string"}},
                    "required": ["order", "action"],
                },
            },
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "maxItems": 3}},
        },
        "required": ["steps", "tags", "matrix"],
    },
    "enums-and-bounds": {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["supported", "refuted", "unclear"]},
            "level": {"enum": [1, 2, 3]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "score": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "temperature_c": {"type": "number", "minimum": -40.5, "maximum": -10.25, "multipleOf": 0.25},
        },
        "required": ["verdict", "level", "confidence", "score", "temperature_c"],
        "additionalProperties": False,
    },
    "optional-fields": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "subtitle": {"type": ["string", "null"]},
            "pages": {"type": "integer", "minimum": 1},
            "isbn": {"type": "string", "pattern": "^97[89]-[0-9]{10}$"},
        },
        "required": ["title"],
        "additionalProperties": False,
    },
    "pydantic-model": Player.model_json_schema(),
}


def json_answer(content: object, model: str) -> Any:
    assert isinstance(content, str)
    if model == "sonar-reasoning-pro":
        # Documented: response_format does not strip the reasoning block.
        assert THINK.match(content)
        content = content.partition("</think>")[2]
    return json.loads(content)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", SCHEMAS)
def test_json_schema_answers_validate(client: Perplexity, model: str, name: str) -> None:
    schema = SCHEMAS[name]
    answer = client.chat.completions.create(
        model=model,
        messages=ask("Give me a structured summary of a well-known example."),
        response_format={"type": "json_schema", "json_schema": {"schema": schema}},
    )
    jsonschema.validate(json_answer(answer.choices[0].message.content, model), schema)


@pytest.mark.anyio
async def test_json_schema_answer_streams_whole(aclient: AsyncPerplexity) -> None:
    schema = SCHEMAS["nested-objects"]
    response_format = {"type": "json_schema", "json_schema": {"schema": schema}}
    stream = await aclient.chat.completions.create(
        model="sonar-pro", messages=ask("Describe a famous company."), response_format=response_format, stream=True
    )
    text = "".join([str(chunk.choices[0].delta.content) async for chunk in stream])
    jsonschema.validate(json.loads(text), schema)


@pytest.mark.parametrize(
    "pattern",
    [
        r"[A-Z]{3}-\d{4}",
        r"\d{1,3}(\.\d{1,3}){3}",
        r"(yes|no|maybe)",
        r"[a-z]{3,8}@[a-z]{3,8}\.(com|org|net)",
        r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
        r"[A-Z][a-z]+( [A-Z][a-z]+){0,2}",
    ],
)
def test_regex_answers_match_on_sonar(client: Perplexity, pattern: str) -> None:
    answer = client.chat.completions.create(
        model="sonar",
        messages=ask("Answer in the requested format."),
        response_format={"type": "regex", "regex": {"regex": pattern}},
    )
    assert re.fullmatch(pattern, str(answer.choices[0].message.content))


@pytest.mark.parametrize(
    "headers",
    [NO_KEY, {"Authorization": "Bearer not-a-pplx-key"}, {"Authorization": "pplx-no-bearer-scheme"}],
    ids=["missing", "not-pplx", "no-bearer"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_keys_raise_authentication_error(client: Perplexity, headers: dict[str, Any], stream: bool) -> None:
    with pytest.raises(perplexity.AuthenticationError) as caught:
        if stream:
            client.chat.completions.create(model="sonar", messages=ask(), stream=True, extra_headers=headers)
        else:
            client.chat.completions.create(model="sonar", messages=ask(), extra_headers=headers)
    assert caught.value.status_code == 401
    assert caught.value.body == {
        "error": {
            "message": "Invalid API key provided. Ensure your API key is correct and active.",
            "type": "invalid_api_key",
            "code": 401,
        }
    }


def error_of(exc: perplexity.APIStatusError) -> dict[str, Any]:
    assert isinstance(exc.body, dict)
    error: dict[str, Any] = exc.body["error"]
    assert error["code"] == exc.status_code
    return error


@pytest.mark.parametrize(
    "model", ["sonar-reasoning", "r1-1776", "llama-3.1-sonar-large-128k-online", "perplexity/sonar"]
)
def test_retired_models_are_bad_requests(client: Perplexity, model: str) -> None:
    with pytest.raises(perplexity.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=ask())
    error = error_of(caught.value)
    assert error["type"] == "invalid_model" and f"'{model}'" in error["message"]


ALTERNATION = (
    "After the (optional) system message(s), user or tool message(s) should alternate with assistant message(s)."
)


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        (
            [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hello?"}],
            ALTERNATION,
        ),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "assistant", "content": "Hi"}],
            "Last message must have role `user`.",
        ),
        (
            [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
            "Last message must have role `user`.",
        ),
    ],
    ids=["two-users", "assistant-only", "assistant-last"],
)
def test_bad_message_order_is_a_bad_request(client: Perplexity, messages: list[dict[str, str]], message: str) -> None:
    with pytest.raises(perplexity.BadRequestError) as caught:
        client.chat.completions.create(model="sonar", messages=messages)
    assert error_of(caught.value) == {"message": message, "type": "invalid_message", "code": 400}


@pytest.mark.anyio
async def test_async_errors_map_to_sdk_exceptions(aclient: AsyncPerplexity) -> None:
    with pytest.raises(perplexity.AuthenticationError) as auth:
        await aclient.chat.completions.create(model="sonar", messages=ask(), extra_headers=NO_KEY)
    assert error_of(auth.value)["type"] == "invalid_api_key"
    with pytest.raises(perplexity.BadRequestError) as model:
        await aclient.chat.completions.create(model="sonar-reasoning", messages=ask(), stream=True)
    assert error_of(model.value)["type"] == "invalid_model"
    with pytest.raises(perplexity.BadRequestError) as order:
        await aclient.chat.completions.create(model="sonar", messages=[*ask(), *ask()])
    assert error_of(order.value)["type"] == "invalid_message"
