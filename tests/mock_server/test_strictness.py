"""`strictness = "spec"`: every request the OpenAPI document allows succeeds; schema-invalid ones do not."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contract.schemas import ChatCompletion
from contract.schemas.async_jobs import AsyncChatCompletionJob
from mock_server.settings import load_settings
from tests.conftest import AUTH, chat_body, make_app, sse_data

pytestmark = pytest.mark.anyio


async def post(path: str, body: dict[str, Any], strictness: str = "spec") -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app(strictness=strictness))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        return await client.post(path, json=body)


def test_setting_from_env() -> None:
    assert load_settings(environ={"MOCK_STRICTNESS": "spec"}).strictness == "spec"
    assert load_settings(environ={}).strictness == "faithful"


async def test_unknown_model_is_answered_as_sonar_under_its_own_name() -> None:
    response = await post("/chat/completions", chat_body(model="my-generated-model"))
    assert response.status_code == 200
    answer = ChatCompletion.model_validate(response.json())
    assert answer.model == "my-generated-model"
    assert answer.choices[0].message.content

    faithful = await post("/chat/completions", chat_body(model="my-generated-model"), strictness="faithful")
    assert faithful.status_code == 400
    assert faithful.json()["error"]["type"] == "invalid_model"


async def test_unknown_model_streams() -> None:
    response = await post("/chat/completions", chat_body(model="x", stream=True))
    assert response.status_code == 200
    events = sse_data(response.text)
    assert events[-1] == "[DONE]"
    assert {json.loads(event)["model"] for event in events[:-1]} == {"x"}


@pytest.mark.parametrize(
    "extra",
    [
        {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
        {"messages": [{"role": "assistant", "content": "last is not a user"}]},
        {"max_tokens": 1},
        {"search_after_date_filter": "02/30/2025"},
        {"search_recency_filter": "week", "search_before_date_filter": "01/01/2025"},
        {"model": "sonar-pro", "response_format": {"type": "regex", "regex": {"regex": "[a-z]+"}}},
        {"model": "sonar-pro", "web_search_options": {"search_type": "pro"}},
    ],
)
async def test_the_apis_own_rules_are_waived(extra: dict[str, Any]) -> None:
    body = {**chat_body(), **extra}
    assert (await post("/chat/completions", body, strictness="faithful")).status_code == 400
    response = await post("/chat/completions", body)
    assert response.status_code == 200, response.text
    ChatCompletion.model_validate(response.json())


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": "Hi"}]},
        chat_body(max_tokens="100"),
        chat_body(stream="true"),
        chat_body(max_tokens=0),
        {"model": "sonar", "messages": []},
    ],
)
async def test_schema_invalid_bodies_are_still_refused(body: dict[str, Any]) -> None:
    response = await post("/chat/completions", body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] in {"invalid_request", "invalid_parameter", "invalid_message"}


async def test_async_create_accepts_any_model_and_unknown_jobs_read_back() -> None:
    app = make_app(strictness="spec")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        for model in ("sonar", "not-a-model"):
            created = await client.post("/async/chat/completions", json={"request": chat_body(model=model)})
            assert created.status_code == 200, created.text
            job = AsyncChatCompletionJob.model_validate(created.json())
            assert (job.model, job.status) == (model, "CREATED")
        unknown = await client.get("/async/chat/completions/no-such-job")
        assert unknown.status_code == 200
        job = AsyncChatCompletionJob.model_validate(unknown.json())
        assert (job.id, job.status) == ("no-such-job", "COMPLETED")
        assert job.response is not None and job.response.choices[0].message.content

    faithful = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=faithful, base_url="http://mock", headers=AUTH) as client:
        assert (await client.get("/async/chat/completions/no-such-job")).status_code == 404
        created = await client.post("/async/chat/completions", json={"request": chat_body(model="sonar")})
        assert created.status_code == 400
