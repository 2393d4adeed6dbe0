"""Non-streamed chat completions: shape, content rules, usage and cost, filters, structured outputs."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from pydantic import BaseModel, Field

from contract.schemas import SONAR_MODELS, ChatCompletion
from mock_server.catalog import MODELS
from mock_server.pricing import TokenCounts, compute_cost
from mock_server.search_filters import covers
from tests.conftest import AUTH, SEED2_COST, chat_body, make_app, sse_data

pytestmark = pytest.mark.anyio
SEED_QUESTION = (
    "Explain what factors determine LLM inference throughput on accelerators: "
    "memory bandwidth, KV-cache size, batching, and quantization."
)


async def complete(client: httpx.AsyncClient, body: dict[str, Any], path: str = "/chat/completions") -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    payload: dict[str, Any] = response.json()
    assert response.headers["x-request-id"] == payload["id"]
    return payload


@pytest.mark.parametrize("model", SONAR_MODELS)
async def test_every_model_answers_with_the_full_shape(client: httpx.AsyncClient, model: str) -> None:
    body = await complete(client, chat_body(model, "How do heat pumps work in cold climates?"))
    ChatCompletion.model_validate(body)
    assert uuid.UUID(body["id"]).version == 4
    assert (body["model"], body["object"]) == (model, "chat.completion")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["delta"] == {**choice["message"], "content": ""}
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    counts = TokenCounts(
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["citation_tokens"],
        usage["reasoning_tokens"],
        usage["num_search_queries"],
    )
    assert usage["cost"] == compute_cost(MODELS[model], counts, "low", pro_search=False)


async def test_citations_search_results_and_markers_agree(client: httpx.AsyncClient) -> None:
    body = await complete(client, chat_body("sonar-pro", "What limits battery energy density in electric cars?"))
    urls = [result["url"] for result in body["search_results"]]
    assert body["citations"] == urls and len(urls) >= 3
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["choices"][0]["message"]["content"])}
    assert markers == set(range(1, len(urls) + 1))


async def test_reasoning_model_thinks_first(client: httpx.AsyncClient) -> None:
    content = (await complete(client, chat_body("sonar-reasoning-pro")))["choices"][0]["message"]["content"]
    assert re.match(r"<think>\n.+\n</think>\n\S", content, re.DOTALL)


async def test_deep_research_bills_its_extra_lines(client: httpx.AsyncClient) -> None:
    usage = (await complete(client, chat_body("sonar-deep-research", reasoning_effort="low")))["usage"]
    assert 40_000 <= usage["reasoning_tokens"] <= 90_000 and 12 <= usage["num_search_queries"] <= 20
    assert usage["cost"]["request_cost"] is None
    assert usage["cost"]["search_queries_cost"] == round(usage["num_search_queries"] * 5 / 1000, 5)


async def test_max_tokens_cuts_the_answer(client: httpx.AsyncClient) -> None:
    body = await complete(client, chat_body("sonar-pro", max_tokens=20))
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 20


async def test_stop_sequence_ends_the_answer_early(client: httpx.AsyncClient) -> None:
    full = (await complete(client, chat_body()))["choices"][0]["message"]["content"]
    stop = full.split()[5]
    cut = (await complete(client, chat_body(stop=[stop])))["choices"][0]["message"]["content"]
    assert cut == full[: full.index(stop)]


async def test_same_request_same_answer_new_id(client: httpx.AsyncClient) -> None:
    first, second = await complete(client, chat_body()), await complete(client, chat_body())
    assert first["id"] != second["id"]
    strip = ("id", "created")
    assert {k: v for k, v in first.items() if k not in strip} == {k: v for k, v in second.items() if k not in strip}


async def test_seed_changes_the_answer() -> None:
    answers = []
    for seed in (1, 2):
        transport = httpx.ASGITransport(app=make_app(seed=seed))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
            answers.append((await complete(client, chat_body()))["choices"][0]["message"]["content"])
    assert answers[0] != answers[1]


async def test_v1_sonar_alias_answers_the_same(client: httpx.AsyncClient) -> None:
    classic = await complete(client, chat_body())
    alias = await complete(client, chat_body(), path="/v1/sonar")
    assert alias["choices"] == classic["choices"] and alias["usage"] == classic["usage"]


async def test_images_and_related_questions_when_asked(client: httpx.AsyncClient) -> None:
    body = await complete(
        client,
        chat_body(return_images=True, num_images=3, image_format_filter=["png"], return_related_questions=True),
    )
    assert len(body["images"]) == 3 and all(image["image_url"].endswith(".png") for image in body["images"])
    assert 3 <= len(body["related_questions"]) <= 5
    plain = await complete(client, chat_body())
    assert "images" not in plain and "related_questions" not in plain


@pytest.mark.parametrize(
    ("domains", "admitted"),
    [
        (["nature.com", "arxiv.org"], lambda host: covers("nature.com", host) or covers("arxiv.org", host)),
        (
            ["-wikipedia.org", "-reuters.com"],
            lambda host: not covers("wikipedia.org", host) and not covers("reuters.com", host),
        ),
    ],
    ids=["allow", "deny"],
)
async def test_domain_filter_is_applied(client: httpx.AsyncClient, domains: list[str], admitted: Any) -> None:
    body = await complete(client, chat_body(search_domain_filter=domains))
    hosts = [httpx.URL(result["url"]).host for result in body["search_results"]]
    assert hosts and all(admitted(host) for host in hosts)


async def test_date_window_is_applied(client: httpx.AsyncClient) -> None:
    body = await complete(
        client, chat_body(search_after_date_filter="3/1/2024", search_before_date_filter="06/30/2024")
    )
    dates = [result["date"] for result in body["search_results"]]
    assert dates and all("2024-03-01" <= date <= "2024-06-30" for date in dates)


async def test_disable_search_answers_without_sources(client: httpx.AsyncClient) -> None:
    body = await complete(client, chat_body(disable_search=True))
    assert body["citations"] == [] and body["search_results"] == []
    assert "[1]" not in body["choices"][0]["message"]["content"]


@pytest.mark.parametrize(("size", "fee"), [("low", 0.005), ("medium", 0.008), ("high", 0.012)])
async def test_search_context_size_sets_the_request_fee(client: httpx.AsyncClient, size: str, fee: float) -> None:
    body = await complete(client, chat_body(web_search_options={"search_context_size": size}))
    assert body["usage"]["cost"]["request_cost"] == fee and body["usage"]["search_context_size"] == size


class Address(BaseModel):
    city: str
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Person(BaseModel):
    first_name: str
    year_of_birth: int = Field(ge=1900, le=2020)
    role: str = Field(json_schema_extra={"enum": ["guard", "forward", "center"]})
    nicknames: list[str] = Field(min_length=1, max_length=3)
    address: Address
    rating: float | None = Field(default=None, ge=0, le=5)


@pytest.mark.parametrize("model", SONAR_MODELS)
async def test_json_schema_output_validates(client: httpx.AsyncClient, model: str) -> None:
    schema = Person.model_json_schema()
    response_format = {"type": "json_schema", "json_schema": {"schema": schema}}
    content = (
        await complete(client, chat_body(model, "Describe a basketball player", response_format=response_format))
    )["choices"][0]["message"]["content"]
    if model == "sonar-reasoning-pro":
        # The documented behaviour: response_format does not strip the reasoning block.
        assert content.startswith("<think>")
        content = content.split("</think>\n", 1)[1]
    jsonschema.validate(json.loads(content), schema)


async def test_regex_output_matches(client: httpx.AsyncClient) -> None:
    pattern = r"[A-Z]{3}-\d{4}(?:-[a-f0-9]{2,4})?"
    response_format = {"type": "regex", "regex": {"regex": pattern}}
    content = (await complete(client, chat_body(response_format=response_format)))["choices"][0]["message"]["content"]
    assert re.fullmatch(pattern, content)


async def test_seed_fixture_replays_the_real_answer(client: httpx.AsyncClient) -> None:
    body = await complete(client, chat_body("sonar-pro", SEED_QUESTION))
    assert body["usage"]["prompt_tokens"] == 27 and body["usage"]["completion_tokens"] == 587
    assert body["usage"]["cost"] == SEED2_COST
    assert body["id"] != "a73cb0f7-3b89-4488-84b1-d5f2d7cc0a55"
    assert body["choices"][0]["message"]["content"].startswith("LLM inference throughput on accelerators")


# The structured-outputs guide's example format (no docstring: it would add a description to the schema).
class AnswerFormat(BaseModel):
    first_name: str
    last_name: str
    year_of_birth: int
    num_seasons_in_nba: int


JORDAN = "Tell me about Michael Jordan. Please output a JSON object containing the following fields."
OPENDNS = "What is the IPv4 address of OpenDNS DNS server?"
IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"


def json_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"schema": schema}}


async def test_documented_structured_output_examples(client: httpx.AsyncClient) -> None:
    body = await complete(
        client, chat_body("sonar", JORDAN, response_format=json_format(AnswerFormat.model_json_schema()))
    )
    assert json.loads(body["choices"][0]["message"]["content"])["year_of_birth"] == 1963
    assert body["usage"]["cost"]["request_cost"] == 0.005
    assert list(body)[-1] == "usage"  # billed by the mock, in the place a real answer has it
    regex = {"type": "regex", "regex": {"regex": IPV4}}
    body = await complete(client, chat_body("sonar", OPENDNS, response_format=regex))
    assert body["choices"][0]["message"]["content"] == "208.67.222.222"


async def test_a_documented_answer_is_only_for_its_own_format(client: httpx.AsyncClient) -> None:
    # The same question in another format, or in none, is not the guide's request: it gets an
    # answer of its own (the fixture would have given another format's JSON, or JSON for prose).
    city = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    other = await complete(client, chat_body("sonar", JORDAN, response_format=json_format(city)))
    assert set(json.loads(other["choices"][0]["message"]["content"])) == {"city"}
    prose = await complete(client, chat_body("sonar", JORDAN))
    assert "year_of_birth" not in prose["choices"][0]["message"]["content"]
    letters = await complete(
        client, chat_body("sonar", OPENDNS, response_format={"type": "regex", "regex": {"regex": "[a-z]+"}})
    )
    assert re.fullmatch("[a-z]+", letters["choices"][0]["message"]["content"])


@pytest.mark.parametrize(
    ("setting", "user_agent", "expected"),
    [
        ("auto", "Perplexity/Python 0.46.1", "chat.completion"),
        ("auto", "python-httpx/0.28", "chat.completion"),
        ("auto", "OpenAI/Python 3.54.0", "chat.completion.chunk"),
        ("auto", "AsyncOpenAI/Python 3.54.0", "chat.completion.chunk"),
        ("observed", "OpenAI/Python 3.54.0", "chat.completion"),
        ("documented", "Perplexity/Python 0.46.1", "chat.completion.chunk"),
    ],
)
async def test_stream_chunk_object(setting: str, user_agent: str, expected: str) -> None:
    app = make_app(stream_object=setting)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=AUTH) as c:
        response = await c.post("/chat/completions", json=chat_body(stream=True), headers={"User-Agent": user_agent})
        concise = await c.post(
            "/chat/completions", json=chat_body(stream=True, stream_mode="concise"), headers={"User-Agent": user_agent}
        )
    chunks = [json.loads(data) for data in sse_data(response.text)[:-1]]
    assert {chunk["object"] for chunk in chunks} == {expected}
    # Concise mode has its own documented kinds whoever asks.
    assert "chat.completion.done" in concise.text


async def test_answers_state_what_their_corpus_sources_say(client: httpx.AsyncClient) -> None:
    body = await complete(client, chat_body("sonar", "What is the capital of France?"))
    content = body["choices"][0]["message"]["content"]
    first = body["search_results"][0]
    assert first["url"] == "https://en.wikipedia.org/wiki/Paris"
    assert content.startswith("Paris is the capital and largest city of France [1].")
    # Pages in other languages are cited but not quoted in an English answer.
    assert any(
        "wikipedia.org/wiki/Paris" in r["url"] and r["url"].startswith("https://fr.") for r in body["search_results"]
    )
    assert "Paris est la capitale" not in content
