"""The `openai` SDK pointed at the mock as Perplexity documents it, strict response validation on.

`base_url` is the mock's root (no `/v1`, as with the real API). Perplexity's own request fields go in
`extra_body`; its own response fields (`citations`, `search_results`, `images`, `related_questions`,
`usage.cost`) are not declared by the OpenAI types and are read from `model_extra` and `to_dict()`.
The sync client talks to a real socket; the async client to a socket and, in-process, to the app
through httpx2's ASGI transport (the SDK's HTTP client).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import jsonschema
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam
from pydantic import BaseModel

from mock_server.clock import Clock
from tests.conftest import SEED2_COST, TEST_KEY, LiveServer, make_app

MODELS = ("sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research")
QUESTION = "What limits the energy density of lithium-ion batteries?"
# Dossier §14.1: the request fee per 1K requests at the default `low` search context.
LOW_REQUEST_FEES = {"sonar": 0.005, "sonar-pro": 0.006, "sonar-reasoning-pro": 0.006, "sonar-deep-research": None}
SEED_QUESTION = (
    "Explain what factors determine LLM inference throughput on accelerators: "
    "memory bandwidth, KV-cache size, batching, and quantization."
)
THINK = re.compile(r"<think>\n.+?\n</think>\n\S", re.DOTALL)
# The mock's clock for tests that depend on today's date (2026-05-28, as in the async-job tests).
NOW = datetime.datetime.fromtimestamp(1_780_000_000, datetime.UTC)
NO_KEY: dict[str, Any] = {"Authorization": openai.Omit()}


def ask(question: str = QUESTION) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": question}]


def extras(model: BaseModel | None) -> dict[str, Any]:
    """The Perplexity fields the OpenAI types do not declare."""
    assert model is not None and model.model_extra is not None
    return model.model_extra


def host_is_on(host: str, domain: str) -> bool:
    """A main domain covers its subdomains (dossier §4.1)."""
    return host == domain or host.endswith("." + domain)


def hosts(response: ChatCompletion) -> list[str]:
    """The hosts of every search result and citation, asserting there are some and that they agree."""
    urls = [result["url"] for result in extras(response)["search_results"]]
    assert urls and extras(response)["citations"] == urls
    return [str(httpx2.URL(url).host) for url in urls]


def check_answer(response: ChatCompletion, model: str) -> None:
    assert isinstance(response, ChatCompletion)
    assert (response.model, response.object) == (model, "chat.completion")
    choice = response.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.strip()
    assert bool(THINK.match(choice.message.content)) == (model == "sonar-reasoning-pro")
    data: dict[str, Any] = response.to_dict()
    assert data["citations"] == extras(response)["citations"] == [r["url"] for r in data["search_results"]]
    assert data["citations"]
    usage = response.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    cost = extras(usage)["cost"]
    assert data["usage"]["cost"] == cost and cost["total_cost"] > 0
    assert cost["request_cost"] == LOW_REQUEST_FEES[model]
    assert (cost["search_queries_cost"] is not None) == (model == "sonar-deep-research")


def check_stream(chunks: list[ChatCompletionChunk], answer: ChatCompletion) -> None:
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == answer.choices[0].message.content
    assert [chunk.choices[0].finish_reason for chunk in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    last = chunks[-1]
    assert last.usage == answer.usage and extras(last.usage)["cost"] == extras(answer.usage)["cost"]
    assert extras(last)["citations"] == extras(answer)["citations"]
    assert extras(last)["search_results"] == extras(answer)["search_results"]


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[OpenAI]:
    with OpenAI(
        api_key=TEST_KEY, base_url=live_server.base_url, _strict_response_validation=True, max_retries=0
    ) as client:
        yield client


def in_process(clock: Clock | None = None) -> AsyncOpenAI:
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=make_app(clock)), base_url="http://mock")
    return AsyncOpenAI(
        api_key=TEST_KEY, base_url="http://mock", http_client=http, _strict_response_validation=True, max_retries=0
    )


@pytest.fixture(params=["socket", "in-process"])
async def aclient(request: pytest.FixtureRequest, live_server: LiveServer) -> AsyncIterator[AsyncOpenAI]:
    if request.param == "socket":
        client = AsyncOpenAI(
            api_key=TEST_KEY, base_url=live_server.base_url, _strict_response_validation=True, max_retries=0
        )
    else:
        client = in_process()
    async with client:
        yield client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_answers(client: OpenAI, model: str) -> None:
    check_answer(client.chat.completions.create(model=model, messages=ask()), model)


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS)
async def test_every_model_answers_async(aclient: AsyncOpenAI, model: str) -> None:
    check_answer(await aclient.chat.completions.create(model=model, messages=ask()), model)


@pytest.mark.parametrize("model", MODELS)
def test_stream_matches_the_answer(client: OpenAI, model: str) -> None:
    answer = client.chat.completions.create(model=model, messages=ask())
    check_stream(list(client.chat.completions.create(model=model, messages=ask(), stream=True)), answer)


@pytest.mark.anyio
@pytest.mark.parametrize("model", MODELS)
async def test_stream_matches_the_answer_async(aclient: AsyncOpenAI, model: str) -> None:
    answer = await aclient.chat.completions.create(model=model, messages=ask())
    stream = await aclient.chat.completions.create(model=model, messages=ask(), stream=True)
    check_stream([chunk async for chunk in stream], answer)


def test_seed_fixture_extras_are_readable(client: OpenAI) -> None:
    response = client.chat.completions.create(model="sonar-pro", messages=ask(SEED_QUESTION))
    usage = response.usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (27, 587, 614)
    cost = SEED2_COST
    data: dict[str, Any] = response.to_dict()
    assert extras(usage)["cost"] == data["usage"]["cost"] == cost
    assert extras(usage)["search_context_size"] == "low"
    assert len(hosts(response)) == 9 and "dl.acm.org" in hosts(response)


@pytest.mark.parametrize("domains", [["nature.com"], ["arxiv.org", "github.com"], ["docs.python.org", "ibm.com"]])
def test_domain_allowlist_keeps_to_those_domains(client: OpenAI, domains: list[str]) -> None:
    response = client.chat.completions.create(
        model="sonar-pro", messages=ask(), extra_body={"search_domain_filter": domains}
    )
    for host in hosts(response):
        assert any(host_is_on(host, domain) for domain in domains), host


def test_domain_denylist_excludes_those_domains(client: OpenAI) -> None:
    denied = ["wikipedia.org", "reuters.com", "github.com"]
    response = client.chat.completions.create(
        model="sonar", messages=ask(), extra_body={"search_domain_filter": [f"-{domain}" for domain in denied]}
    )
    for host in hosts(response):
        assert not any(host_is_on(host, domain) for domain in denied), host


@pytest.mark.anyio
@pytest.mark.parametrize(("recency", "days"), [("hour", 0), ("day", 1), ("week", 7), ("month", 31), ("year", 366)])
async def test_recency_filter_bounds_the_publication_dates(recency: str, days: int) -> None:
    async with in_process(Clock(source=NOW.timestamp)) as client:
        response = await client.chat.completions.create(
            model="sonar", messages=ask(), extra_body={"search_recency_filter": recency}
        )
    earliest = (NOW - datetime.timedelta(days=days)).date().isoformat()
    dates = [result["date"] for result in extras(response)["search_results"]]
    assert dates and all(earliest <= date <= NOW.date().isoformat() for date in dates), dates


def test_related_questions_only_when_asked(client: OpenAI) -> None:
    asked = client.chat.completions.create(model="sonar", messages=ask(), extra_body={"return_related_questions": True})
    questions = extras(asked)["related_questions"]
    assert questions and all(isinstance(question, str) and question.strip() for question in questions)
    assert "related_questions" not in client.chat.completions.create(model="sonar", messages=ask()).to_dict()


@pytest.mark.parametrize(("size", "fee"), [("low", 0.005), ("medium", 0.008), ("high", 0.012)])
def test_web_search_options_set_the_request_fee(client: OpenAI, size: str, fee: float) -> None:
    options = {"search_context_size": size, "user_location": {"country": "FR", "city": "Lyon"}}
    response = client.chat.completions.create(model="sonar", messages=ask(), extra_body={"web_search_options": options})
    usage = extras(response.usage)
    assert usage["search_context_size"] == size and usage["cost"]["request_cost"] == fee


def test_json_schema_response_format(client: OpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {
            "chemistry": {"type": "string", "enum": ["NMC", "LFP", "NCA"]},
            "energy_density_wh_per_kg": {"type": "number", "minimum": 90, "maximum": 300},
            "limits": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["chemistry", "energy_density_wh_per_kg", "limits"],
    }
    response = client.chat.completions.create(
        model="sonar-pro",
        messages=ask(),
        response_format={"type": "json_schema", "json_schema": {"name": "battery", "schema": schema}},
    )
    jsonschema.validate(json.loads(response.choices[0].message.content or ""), schema)


@pytest.mark.parametrize(
    "headers",
    [NO_KEY, {"Authorization": "Bearer sk-openai-style-key"}, {"Authorization": "Bearer pplx-"}],
    ids=["missing", "not-pplx", "bare-prefix"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_keys_raise_authentication_error(client: OpenAI, headers: dict[str, Any], stream: bool) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        if stream:
            client.chat.completions.create(model="sonar", messages=ask(), stream=True, extra_headers=headers)
        else:
            client.chat.completions.create(model="sonar", messages=ask(), extra_headers=headers)
    assert (caught.value.status_code, caught.value.type) == (401, "invalid_api_key")
    assert caught.value.body == {
        "message": "Invalid API key provided. Ensure your API key is correct and active.",
        "type": "invalid_api_key",
        "code": 401,
    }


@pytest.mark.parametrize(
    ("model", "messages", "error_type"),
    [
        ("sonar-reasoning", ask(), "invalid_model"),
        ("llama-3.1-sonar-small-128k-online", ask(), "invalid_model"),
        ("sonar", [*ask(), *ask()], "invalid_message"),
        ("sonar", [*ask(), {"role": "assistant", "content": "Sure."}], "invalid_message"),
    ],
    ids=["retired", "legacy-llama", "two-users", "assistant-last"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_requests_raise_bad_request_error(
    client: OpenAI, model: str, messages: list[ChatCompletionMessageParam], error_type: str, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        if stream:
            client.chat.completions.create(model=model, messages=messages, stream=True)
        else:
            client.chat.completions.create(model=model, messages=messages)
    error = caught.value
    assert (error.status_code, error.type) == (400, error_type)
    assert isinstance(error.body, dict) and error.body["code"] == 400
    if error_type == "invalid_model":
        assert f"Invalid model '{model}'" in error.body["message"]


@pytest.mark.anyio
async def test_async_errors_map_to_sdk_exceptions(aclient: AsyncOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as auth:
        await aclient.chat.completions.create(model="sonar", messages=ask(), extra_headers=NO_KEY)
    assert auth.value.type == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as model:
        await aclient.chat.completions.create(model="r1-1776", messages=ask(), stream=True)
    assert model.value.type == "invalid_model"
    with pytest.raises(openai.BadRequestError) as order:
        await aclient.chat.completions.create(model="sonar", messages=[*ask(), *ask()])
    assert order.value.type == "invalid_message"
