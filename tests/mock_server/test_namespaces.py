"""X-Mock-Namespace: journal, jobs, buckets and tiers are separate per namespace, and reset is too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.clock import Clock
from mock_server.state import MockState
from tests.conftest import AUTH, chat_body, make_app

NOW = 1_780_000_000.0
A = {"X-Mock-Namespace": "worker-a"}
B = {"X-Mock-Namespace": "worker-b"}
JOB = {"request": chat_body("sonar-deep-research")}


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    # One sonar request per 2 s, so one request drains a bucket.
    limits = tmp_path / "limits.toml"
    limits.write_text('extends = "rl-v3"\n[limits.sonar]\nrequests = 1\nperiod = 2\n', encoding="utf-8")
    return make_app(Clock(source=lambda: NOW), rate_limits=str(limits))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        yield client


async def paths(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    entries: list[dict[str, Any]] = (await client.get("/_mock/requests", headers=headers)).json()["requests"]
    return [entry["path"] for entry in entries]


async def chat_status(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.post("/chat/completions", json=chat_body(), headers=headers)).status_code


async def reset(client: httpx.AsyncClient, headers: dict[str, str], body: Any = None) -> httpx.Response:
    response = await client.post("/_mock/reset", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.anyio
async def test_journals_do_not_leak(client: httpx.AsyncClient) -> None:
    await client.post("/search", json={"query": "a"}, headers=A)
    await client.post("/chat/completions", json=chat_body(), headers=B)
    assert await paths(client, A) == ["/search"]
    assert await paths(client, B) == ["/chat/completions"]
    assert await paths(client, {}) == []
    entries = (await client.get("/_mock/requests", headers=A)).json()["requests"]
    assert entries[0]["namespace"] == "worker-a"


@pytest.mark.anyio
async def test_jobs_do_not_leak(client: httpx.AsyncClient) -> None:
    job = (await client.post("/async/chat/completions", json=JOB, headers=A)).json()
    assert (await client.get(f"/async/chat/completions/{job['id']}", headers=A)).status_code == 200
    assert (await client.get(f"/async/chat/completions/{job['id']}", headers=B)).status_code == 404
    assert (await client.get(f"/async/chat/completions/{job['id']}")).status_code == 404
    listed_b = (await client.get("/async/chat/completions", headers=B)).json()
    assert listed_b["requests"] == []
    listed_a = (await client.get("/async/chat/completions", headers=A)).json()
    assert [j["id"] for j in listed_a["requests"]] == [job["id"]]


@pytest.mark.anyio
async def test_idempotency_keys_are_per_namespace(client: httpx.AsyncClient) -> None:
    body = {**JOB, "idempotency_key": "same"}
    first_a = (await client.post("/async/chat/completions", json=body, headers=A)).json()
    again_a = (await client.post("/async/chat/completions", json=body, headers=A)).json()
    first_b = (await client.post("/async/chat/completions", json=body, headers=B)).json()
    assert first_a["id"] == again_a["id"] != first_b["id"]


@pytest.mark.anyio
async def test_reset_clears_only_the_caller_s_namespace(client: httpx.AsyncClient) -> None:
    for headers in (A, B):
        # The tier first: setting one refills the key's buckets.
        await client.post("/_mock/tiers", json={"key": "pplx-test-key", "tier": 3}, headers=headers)
        assert [await chat_status(client, headers) for _ in range(2)] == [200, 429]
    job_b = (await client.post("/async/chat/completions", json=JOB, headers=B)).json()
    job_a = (await client.post("/async/chat/completions", json=JOB, headers=A)).json()

    answer = await reset(client, A)
    assert answer.json() == {"reset": "namespace", "namespace": "worker-a"}

    assert await paths(client, A) == []
    assert len(await paths(client, B)) == 3
    # A's bucket is full again, B's is still empty.
    assert await chat_status(client, A) == 200
    assert await chat_status(client, B) == 429
    tier_a = (await client.get("/_mock/tiers", params={"key": "pplx-test-key"}, headers=A)).json()
    tier_b = (await client.get("/_mock/tiers", params={"key": "pplx-test-key"}, headers=B)).json()
    assert tier_a["source"] == "default"
    assert tier_b == {"key": "pplx-test-key", "namespace": "worker-b", "tier": 3, "source": "runtime"}
    assert (await client.get(f"/async/chat/completions/{job_a['id']}", headers=A)).status_code == 404
    assert (await client.get(f"/async/chat/completions/{job_b['id']}", headers=B)).status_code == 200


@pytest.mark.anyio
async def test_reset_without_a_header_is_the_default_namespace(client: httpx.AsyncClient) -> None:
    await client.post("/search", json={"query": "a"})
    await client.post("/search", json={"query": "a"}, headers=A)
    # No body at all is fine too.
    response = await client.post("/_mock/reset")
    assert response.json() == {"reset": "namespace", "namespace": ""}
    assert (await paths(client, {}), await paths(client, A)) == ([], ["/search"])


@pytest.mark.anyio
async def test_reset_all(client: httpx.AsyncClient) -> None:
    for headers in ({}, A, B):
        assert [await chat_status(client, headers) for _ in range(2)] == [200, 429]
    await client.post("/async/chat/completions", json=JOB, headers=B)
    await client.post("/_mock/tiers", json={"key": "pplx-test-key", "tier": 0}, headers=A)

    assert (await reset(client, A, {"all": True})).json() == {"reset": "all", "namespace": None}

    for headers in ({}, A, B):
        assert await paths(client, headers) == []
        assert await chat_status(client, headers) == 200
    assert (await client.get("/async/chat/completions", headers=B)).json()["requests"] == []
    tier_a = (await client.get("/_mock/tiers", params={"key": "pplx-test-key"}, headers=A)).json()
    assert tier_a["source"] == "default"


@pytest.mark.anyio
@pytest.mark.parametrize("body", [{"all": "yes"}, {"all": 1}, ["all"]])
async def test_reset_rejects_bad_bodies(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/_mock/reset", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_parameter"


class Scenarios:
    """Stands in for a store another feature registers: it only notes what it was asked to forget."""

    def __init__(self) -> None:
        self.resets: list[str | None] = []

    def reset(self, namespace: str | None) -> None:
        self.resets.append(namespace)


@pytest.mark.anyio
async def test_registered_resettables_are_reset_too(app: Starlette, client: httpx.AsyncClient) -> None:
    state: MockState = app.state.mock
    scenarios = Scenarios()
    state.resettables.append(scenarios)
    await reset(client, A)
    await reset(client, {})
    await reset(client, B, {"all": True})
    assert scenarios.resets == ["worker-a", "", None]
