"""Planned answers are reused for repeated requests, with a fresh id each time, within a bound."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import chat
from mock_server.answer_cache import AnswerCache, AnswerKey
from mock_server.fixtures import load_fixture
from mock_server.state import MockState
from mock_server.strictness import parse_chat
from tests.conftest import chat_body

SEED_FIXTURE = Path(__file__).parents[2] / "fixtures" / "chat" / "seed-sonar-pro-inference-throughput.json"

pytestmark = pytest.mark.anyio


async def test_a_repeated_request_reuses_the_plan_with_a_new_id(client: httpx.AsyncClient) -> None:
    first = (await client.post("/chat/completions", json=chat_body())).json()
    second = (await client.post("/chat/completions", json=chat_body())).json()
    assert first["id"] != second["id"]
    assert first["choices"] == second["choices"] and first["usage"] == second["usage"]
    other = (await client.post("/chat/completions", json=chat_body(temperature=0.5))).json()
    assert other["choices"] != first["choices"], "any difference in the request is a different plan"


def key(request: str) -> AnswerKey:
    return (0, datetime.date(2026, 11, 23), 0, "sonar", request)


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = AnswerCache(size=2)
    a, b, c = object(), object(), object()
    cache.put(key("a"), a)  # type: ignore[arg-type]
    cache.put(key("b"), b)  # type: ignore[arg-type]
    assert cache.get(key("a")) is a
    cache.put(key("c"), c)  # type: ignore[arg-type]
    assert cache.get(key("b")) is None and cache.get(key("a")) is a and cache.get(key("c")) is c


async def test_a_repeated_body_is_validated_once(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def counting(state: MockState, payload: object) -> object:
        calls.append(payload)
        return parse_chat(state, payload)

    monkeypatch.setattr(chat, "parse_chat", counting)
    body = json.dumps(chat_body(max_tokens=40)).encode()
    for _ in range(3):
        response = await client.post("/chat/completions", content=body)
        assert response.status_code == 200
    assert len(calls) == 1, "the same bytes validate the same way"
    spaced = json.dumps(chat_body(max_tokens=40), indent=1).encode()
    assert (await client.post("/chat/completions", content=spaced)).json()["choices"] == response.json()["choices"]
    assert len(calls) == 2, "other bytes are validated on their own"


async def test_an_invalid_body_is_refused_every_time(client: httpx.AsyncClient) -> None:
    body = json.dumps(chat_body(max_tokens=2)).encode()
    for _ in range(2):
        response = await client.post("/chat/completions", content=body)
        assert response.status_code == 400


async def test_a_fixture_added_at_run_time_answers_a_request_answered_before(
    app: Starlette, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    question = "What is the capital of France?"
    before = (await client.post("/chat/completions", json=chat_body(question=question))).json()
    recorded = json.loads(SEED_FIXTURE.read_text())
    recorded["match"] = {"model": "sonar", "last_user_message": {"equals": question}}
    path = tmp_path / "paris.json"
    path.write_text(json.dumps(recorded))
    state: MockState = app.state.mock
    state.fixtures.add(load_fixture(path))
    after = (await client.post("/chat/completions", json=chat_body(question=question))).json()
    assert after["choices"] != before["choices"]
    assert after["choices"][0]["message"]["content"] == recorded["response"]["body"]["choices"][0]["message"]["content"]
