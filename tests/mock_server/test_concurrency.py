"""The optional per-key concurrency cap: slots, a bounded first-come queue, then 429 or 503."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import httpx
import pytest

from mock_server.concurrency import Gate
from mock_server.settings import SettingsError, load_settings
from tests.conftest import chat_body, make_app

# Each sonar answer takes about 0.1 s of real time, long enough for the others to pile up.
SLOW_SONAR = {"time_scale": 1, "models": {"sonar": {"time_to_first_token": 0.1, "tokens_per_second": 1e6}}}


def capped_client(**settings: Any) -> httpx.AsyncClient:
    app = make_app(**{**SLOW_SONAR, **settings})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")


async def post(client: httpx.AsyncClient, key: str = "pplx-a", namespace: str = "") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "X-Mock-Namespace": namespace}
    return await client.post("/chat/completions", json=chat_body(), headers=headers)


@pytest.mark.anyio
async def test_slots_then_queue_then_429() -> None:
    async with capped_client(max_concurrent_requests=2, concurrency_queue=1) as client:
        responses = await asyncio.gather(*(post(client) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 429, 429]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["type"] == "request_rate_limit_exceeded"
    assert refused.json()["error"]["message"] == "Too Many Requests: at most 2 concurrent requests per API key."
    assert (refused.headers["retry-after"], refused.headers["retry-after-ms"]) == ("1", "1000")
    assert refused.headers["x-request-id"] and "x-ratelimit-limit" not in refused.headers


@pytest.mark.anyio
async def test_503_when_configured() -> None:
    async with capped_client(max_concurrent_requests=1, concurrency_status=503) as client:
        responses = await asyncio.gather(post(client), post(client))
    refused = next(r for r in responses if r.status_code != 200)
    assert refused.status_code == 503 and refused.json()["error"]["type"] == "service_unavailable"


@pytest.mark.anyio
async def test_keys_and_namespaces_have_their_own_slots() -> None:
    async with capped_client(max_concurrent_requests=1) as client:
        responses = await asyncio.gather(post(client, "pplx-a"), post(client, "pplx-b"), post(client, "pplx-a", "ns"))
        assert [r.status_code for r in responses] == [200, 200, 200]
        # A key the mock does not accept is not capped: the handler answers 401.
        busy, stranger = await asyncio.gather(post(client), post(client, "sk-unknown"))
        assert (busy.status_code, stranger.status_code) == (200, 401)
        # The mock's own routes are never capped.
        busy, health = await asyncio.gather(post(client), client.get("/healthz"))
        assert (busy.status_code, health.status_code) == (200, 200)


@pytest.mark.anyio
async def test_no_cap_by_default() -> None:
    async with capped_client() as client:
        responses = await asyncio.gather(*(post(client) for _ in range(10)))
    assert {r.status_code for r in responses} == {200}


@pytest.mark.anyio
async def test_gate_hands_slots_over_in_order_and_survives_cancellation() -> None:
    gate = Gate(slots=1, queue=2)
    order: list[str] = []
    assert await gate.enter()

    async def wait_then_record(name: str) -> None:
        assert await gate.enter()
        order.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(wait_then_record, "first")
        await anyio.wait_all_tasks_blocked()
        with anyio.CancelScope() as doomed:
            doomed.cancel()
            await gate.enter()  # cancelled while queued: leaves the queue
        group.start_soon(wait_then_record, "second")
        await anyio.wait_all_tasks_blocked()
        assert not await Gate(slots=0, queue=0).enter()
        gate.leave()
        await anyio.wait_all_tasks_blocked()
        gate.leave()
    assert order == ["first", "second"] and gate.active == 1
    gate.leave()
    assert gate.active == 0


def test_settings_accept_only_429_or_503() -> None:
    assert load_settings(environ={"MOCK_CONCURRENCY_STATUS": "503"}).concurrency_status == 503
    with pytest.raises(SettingsError, match="environment: concurrency_status: Value error, must be 429 or 503"):
        load_settings(environ={"MOCK_CONCURRENCY_STATUS": "500"})
    with pytest.raises(SettingsError, match="max_concurrent_requests"):
        load_settings(environ={"MOCK_MAX_CONCURRENT_REQUESTS": "0"})


@pytest.mark.anyio
async def test_a_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    gate = Gate(slots=1, queue=1)
    assert await gate.enter()
    waiter = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gate.leave()  # hands the slot to the waiter...
    waiter.cancel()  # ...which is cancelled before it runs again, and gives the slot back
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.active == 0
