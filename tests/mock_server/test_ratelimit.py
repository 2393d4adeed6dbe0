"""Rate limits over HTTP: 429 at the documented limit, counting headers, check order, namespaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from mock_server.clock import Clock
from mock_server.errors import MockAPIError
from mock_server.ratelimit import enforce_rate_limit
from mock_server.state import MockState
from tests.conftest import chat_body, make_app

TIER0 = "pplx-ci-tier0-abc"
TIER0_AUTH = {"Authorization": f"Bearer {TIER0}"}
NOW = 1_780_000_000.0
JOB = {"request": chat_body("sonar-deep-research")}


def limited_app(**settings: Any) -> tuple[Starlette, Clock]:
    clock = Clock(source=lambda: NOW)
    return make_app(clock, **settings), clock


@pytest.fixture
def app_and_clock() -> tuple[Starlette, Clock]:
    return limited_app()


@pytest.fixture
async def tier0(app_and_clock: tuple[Starlette, Clock]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_and_clock[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=TIER0_AUTH) as client:
        yield client


def limit_headers(response: httpx.Response) -> tuple[str | None, ...]:
    names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after", "retry-after-ms")
    return tuple(response.headers.get(name) for name in names)


@pytest.mark.anyio
async def test_tier0_sonar_gets_429_at_the_documented_limit(
    tier0: httpx.AsyncClient, app_and_clock: tuple[Starlette, Clock]
) -> None:
    responses = [await tier0.post("/chat/completions", json=chat_body()) for _ in range(50)]
    assert {r.status_code for r in responses} == {200}
    # Remaining counts down; Reset is the whole seconds until the bucket is full again (1.2 s a token).
    assert [limit_headers(r) for r in responses[:3]] == [
        ("50", "49", "2", None, None),
        ("50", "48", "3", None, None),
        ("50", "47", "4", None, None),
    ]
    assert limit_headers(responses[-1]) == ("50", "0", "60", None, None)
    refused = await tier0.post("/chat/completions", json=chat_body())
    assert refused.status_code == 429
    assert limit_headers(refused) == ("50", "0", "60", "2", "1200")
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("request_rate_limit_exceeded", 429)
    assert error["message"] == (
        "Too Many Requests: the rate limit for sonar on usage tier 0 is 50 requests per minute. "
        "Try again in 1.2 seconds."
    )
    assert refused.headers["access-control-allow-origin"] == "*" and refused.headers["x-request-id"]
    clock = app_and_clock[1]
    clock.advance(1.199)
    assert (await tier0.post("/chat/completions", json=chat_body())).status_code == 429
    clock.advance(0.001)
    again = await tier0.post("/chat/completions", json=chat_body())
    assert again.status_code == 200 and limit_headers(again)[:2] == ("50", "0")


@pytest.mark.anyio
async def test_buckets_are_per_model_and_v1_sonar_shares_the_chat_bucket(tier0: httpx.AsyncClient) -> None:
    for _ in range(25):
        await tier0.post("/chat/completions", json=chat_body())
        await tier0.post("/v1/sonar", json=chat_body())
    assert (await tier0.post("/v1/sonar", json=chat_body())).status_code == 429
    assert (await tier0.post("/chat/completions", json=chat_body("sonar-pro"))).status_code == 200
    research = [await tier0.post("/chat/completions", json=chat_body("sonar-deep-research")) for _ in range(6)]
    assert [r.status_code for r in research] == [200] * 5 + [429]
    assert limit_headers(research[-1]) == ("5", "0", "60", "12", "12000")


@pytest.mark.anyio
async def test_streams_carry_the_headers(tier0: httpx.AsyncClient) -> None:
    response = await tier0.post("/chat/completions", json=chat_body(stream=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert limit_headers(response) == ("50", "49", "2", None, None)


@pytest.mark.anyio
async def test_check_order_401_then_429_then_validation(tier0: httpx.AsyncClient) -> None:
    # An unknown model has no bucket: 400, and no token spent.
    unknown = await tier0.post("/chat/completions", json=chat_body("sonar-reasoning"))
    assert unknown.status_code == 400 and "x-ratelimit-limit" not in unknown.headers
    # A known model's request is counted before the rest is validated; the 400 shows the count.
    invalid = await tier0.post("/chat/completions", json={"model": "sonar", "messages": []})
    assert invalid.status_code == 400 and limit_headers(invalid)[:2] == ("50", "49")
    for _ in range(49):
        await tier0.post("/chat/completions", json=chat_body())
    assert (await tier0.post("/chat/completions", json={"model": "sonar", "messages": []})).status_code == 429
    unauthenticated = await tier0.post("/chat/completions", json=chat_body(), headers={"Authorization": "Bearer x"})
    assert unauthenticated.status_code == 401 and "x-ratelimit-limit" not in unauthenticated.headers


@pytest.mark.anyio
async def test_async_endpoints_have_their_own_limits(tier0: httpx.AsyncClient) -> None:
    created = [await tier0.post("/async/chat/completions", json=JOB) for _ in range(5)]
    assert {r.status_code for r in created} == {200}
    refused = await tier0.post("/v1/async/sonar", json=JOB)
    assert refused.status_code == 429 and limit_headers(refused) == ("5", "0", "60", "12", "12000")
    # The limit comes before the body is read: even a bad body is refused with 429 now.
    assert (await tier0.post("/async/chat/completions", json={})).status_code == 429
    listed = await tier0.get("/async/chat/completions")
    assert listed.status_code == 200 and limit_headers(listed)[:2] == ("3000", "2999")
    job_id = created[0].json()["id"]
    fetched = await tier0.get(f"/v1/async/sonar/{job_id}")
    assert fetched.status_code == 200 and limit_headers(fetched)[:2] == ("6000", "5999")
    missing = await tier0.get("/async/chat/completions/nope")
    assert missing.status_code == 404 and limit_headers(missing)[:2] == ("6000", "5998")


@pytest.mark.anyio
async def test_a_custom_file_limits_the_list_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text('extends = "rl-v3"\n[limits.async-list]\nrequests = 2\nperiod = 1\n', encoding="utf-8")
    app, clock = limited_app(rate_limits=str(path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        statuses = [(await client.get("/async/chat/completions", headers=TIER0_AUTH)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        clock.advance(0.5)
        assert (await client.get("/async/chat/completions", headers=TIER0_AUTH)).status_code == 200


@pytest.mark.anyio
async def test_namespaces_do_not_leak(tier0: httpx.AsyncClient) -> None:
    for _ in range(50):
        await tier0.post("/chat/completions", json=chat_body(), headers={"X-Mock-Namespace": "worker-1"})
    blocked = await tier0.post("/chat/completions", json=chat_body(), headers={"X-Mock-Namespace": "worker-1"})
    other = await tier0.post("/chat/completions", json=chat_body(), headers={"X-Mock-Namespace": "worker-2"})
    default = await tier0.post("/chat/completions", json=chat_body())
    assert (blocked.status_code, other.status_code, default.status_code) == (429, 200, 200)
    assert limit_headers(other)[1] == limit_headers(default)[1] == "49"


@pytest.mark.anyio
async def test_the_default_tier_keeps_ordinary_keys_clear(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", json=chat_body())
    assert limit_headers(response) == ("4000", "3999", "1", None, None)


@pytest.mark.anyio
async def test_preset_off_limits_nothing() -> None:
    app, _ = limited_app(rate_limits="off")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        statuses = {
            (await client.post("/async/chat/completions", json=JOB, headers=TIER0_AUTH)).status_code for _ in range(8)
        }
        response = await client.get("/async/chat/completions", headers=TIER0_AUTH)
    assert statuses == {200} and "x-ratelimit-limit" not in response.headers


@pytest.mark.anyio
async def test_concurrent_requests_never_over_admit(tier0: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(tier0.post("/chat/completions", json=chat_body()) for _ in range(200)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 50 and statuses.count(429) == 150
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses if r.status_code == 200) == list(range(50))


class TickingClock(Clock):
    """Every reading is 0.5 s after the previous one."""

    def __init__(self) -> None:
        super().__init__(source=lambda: NOW)
        self.readings = 0

    def time(self) -> float:
        self.readings += 1
        return NOW + self.readings * 0.5


@pytest.mark.anyio
async def test_concurrent_requests_with_refill_stay_within_capacity_plus_refill() -> None:
    clock = TickingClock()
    app = make_app(clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        responses = await asyncio.gather(
            *(client.post("/async/chat/completions", json=JOB, headers=TIER0_AUTH) for _ in range(120))
        )
    elapsed = clock.readings * 0.5
    admitted = sum(r.status_code == 200 for r in responses)
    assert 5 < admitted <= 5 + (5 / 60) * elapsed


def search_request(key: str, namespace: str = "") -> Request:
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"x-mock-namespace", namespace.encode())]
    return Request({"type": "http", "method": "POST", "path": "/search", "headers": headers})


def charge_search(state: MockState, key: str, namespace: str = "", limit: str | None = "search") -> dict[str, str]:
    """`enforce_rate_limit` for a search by `key`, and the headers it set, decoded."""
    headers = enforce_rate_limit(search_request(key, namespace), state, limit, key)
    return {name.decode(): value.decode() for name, value in headers}


def test_the_search_limit_is_50_a_second_on_every_tier() -> None:
    app, clock = limited_app()
    state = app.state.mock
    for key in (TIER0, "pplx-ci-tier5"):
        headers = [charge_search(state, key) for _ in range(50)]
        assert headers[0] == {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "49", "x-ratelimit-reset": "1"}
        with pytest.raises(MockAPIError) as caught:
            enforce_rate_limit(search_request(key), state, "search", key)
        assert caught.value.status_code == 429 and caught.value.type == "request_rate_limit_exceeded"
        assert caught.value.headers["retry-after-ms"] == "20" and caught.value.headers["retry-after"] == "1"
        # The same on every tier: the message names no tier, as if a higher one would help.
        assert caught.value.message == (
            "Too Many Requests: the rate limit for search is 50 requests per second. Try again in 0.02 seconds."
        )
    clock.advance(0.02)
    assert charge_search(state, TIER0)["x-ratelimit-remaining"] == "0"
    assert charge_search(state, TIER0, "ns")["x-ratelimit-remaining"] == "49"
    assert charge_search(state, TIER0, limit=None) == {}
