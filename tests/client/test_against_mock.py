"""The client against the mock: every endpoint, sync over a socket and async in-process, and bursts."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import httpx
import pytest

from contract.client import AsyncClient, Client, Limit, NotFoundError, RateLimitError, RetryPolicy
from contract.client._limits import MARGIN
from mock_server.clock import Clock
from tests.client.fakes import FakeTime
from tests.conftest import LiveServer, make_app

KEY = "pplx-client-test"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


async def ask(client: AsyncClient, i: int) -> object:
    return await client.chat(model="sonar", messages=[{"role": "user", "content": f"q{i}"}])


def test_every_endpoint_sync_over_a_socket(live_server: LiveServer) -> None:
    with Client(api_key=KEY, base_url=live_server.base_url) as client:
        answer = client.chat(model="sonar", messages=MESSAGES)
        assert answer.choices[0].message.content and answer.usage is not None
        with client.chat_stream(model="sonar-pro", messages=MESSAGES) as stream:
            chunks = list(stream)
        assert len(chunks) == stream.answer.chunks > 1
        assert stream.answer.text == chunks[-1].choices[0].message.content
        assert stream.answer.usage is not None and stream.answer.finish_reason == "stop"
        assert stream.answer.search_results and stream.answer.citations
        assert client.search(query="Paris", max_results=3).results
        job = client.create_job(model="sonar-deep-research", messages=MESSAGES, idempotency_key="k-sync")
        assert job.status == "CREATED"
        assert client.get_job(job.id).id == job.id
        assert job.id in [item.id for item in client.list_jobs().requests]
        done = client.wait_for_job(job.id, timeout=10, poll_interval=0.01)
        assert done.status == "COMPLETED" and done.response is not None
        with pytest.raises(NotFoundError) as missing:
            client.get_job("00000000-0000-0000-0000-000000000000")
        assert missing.value.error is not None and missing.value.request_id


@pytest.mark.anyio
async def test_every_endpoint_async_in_process() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with AsyncClient(api_key=KEY, base_url="http://mock", transport=transport) as client:
        answer = await client.chat(model="sonar", messages=MESSAGES)
        assert answer.choices[0].message.content
        async with await client.chat_stream(model="sonar", messages=MESSAGES) as stream:
            texts = [chunk.choices[0].delta.content async for chunk in stream]
        assert "".join(t or "" for t in texts) == stream.answer.text == answer.choices[0].message.content
        async with await client.chat_stream(model="sonar", messages=MESSAGES, stream_mode="concise") as concise:
            kinds = [chunk.object async for chunk in concise]
        assert kinds[0] == "chat.reasoning" and kinds[-1] == "chat.completion.done"
        assert concise.answer.text == answer.choices[0].message.content
        assert concise.answer.usage == answer.usage and concise.answer.finish_reason == "stop"
        assert (await client.search(query=["Paris", "Berlin"])).results
        job = await client.create_job(model="sonar-deep-research", messages=MESSAGES)
        assert (await client.get_job(job.id)).id == job.id
        assert [item.id for item in (await client.list_jobs(limit=1)).requests] == [job.id]
        assert (await client.wait_for_job(job.id, poll_interval=0.01)).status == "COMPLETED"


@pytest.mark.anyio
async def test_a_thousand_requests_at_tier_0_meet_no_429_and_take_the_ideal_time() -> None:
    # The mock and the client share one fake clock: 1,000 sonar requests at 50 a minute (burst 50)
    # take (1000 - 50) / 50 minutes of simulated time, and no real time.
    fake = FakeTime()
    transport = httpx.ASGITransport(app=make_app(clock=Clock(source=fake)))
    statuses: list[int] = []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    client = AsyncClient(
        api_key="pplx-burst-tier0-a",
        base_url="http://mock",
        transport=transport,
        tier=0,
        total_timeout=None,  # the last request waits about 19 minutes for its token
        max_concurrency=8,
        retry=RetryPolicy(max_retries=0),
        clock=fake,
        sleep=fake.asleep_scheduled,
    )
    client._http.event_hooks["response"].append(record)  # count what the client saw, retries included
    start = fake.now
    async with client:
        await fake.run_all([partial(ask, client, i) for i in range(1000)])
    ideal = (1000 - 50) / (50 / 60)
    assert statuses.count(429) == 0 and len(statuses) == 1000
    assert ideal <= fake.now - start <= ideal * 1.1


def test_a_burst_over_a_real_socket_meets_no_429_and_runs_near_the_limit(tmp_path: Path) -> None:
    # One request after another, so network jitter cannot reorder them against the server's bucket;
    # at 200 a second a request may take 5 ms (it takes 2-3 here), so only the limiter's pacing
    # decides the duration: (1000 - burst) / rate.
    limits = tmp_path / "limits.toml"
    limits.write_text("[limits.sonar]\nrequests = 200\nperiod = 1\nburst = 10\n")
    statuses: list[int] = []
    with LiveServer(make_app(rate_limits=str(limits))) as server:
        client = Client(
            api_key=KEY,
            base_url=server.base_url,
            rate_limits={"sonar": Limit(requests=200, period=1, burst=10)},
            retry=RetryPolicy(max_retries=0),
        )
        client._http.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
        start = time.monotonic()
        with client:
            for i in range(1000):
                client.chat(model="sonar", messages=[{"role": "user", "content": f"q{i}"}])
        elapsed = time.monotonic() - start
        journal = httpx.get(f"{server.base_url}/_mock/requests", params={"status": 429})
    ideal = (1000 - 10) / 200
    assert statuses.count(429) == 0 and len(statuses) == 1000
    assert ideal * 0.95 <= elapsed <= ideal * 1.1
    assert journal.json()["requests"] == []


@pytest.mark.anyio
async def test_an_unknown_limit_is_learnt_from_headers_and_an_unpaced_client_meets_429(tmp_path: Path) -> None:
    # A custom limit the client has no table for: 2 at once, then 1 a minute.
    limits = tmp_path / "limits.toml"
    limits.write_text("[limits.sonar]\nrequests = 1\nperiod = 60\nburst = 2\n")
    fake = FakeTime()
    transport = httpx.ASGITransport(app=make_app(clock=Clock(source=fake), rate_limits=str(limits)))

    def fresh() -> AsyncClient:
        return AsyncClient(
            api_key=KEY,
            base_url="http://mock",
            transport=transport,
            retry=RetryPolicy(max_retries=0),
            clock=fake,
            sleep=fake.asleep,
        )

    async with fresh() as client:
        for _ in range(3):
            await client.chat(model="sonar", messages=MESSAGES)  # the third waits for its token
    # 2 requests, 0 left, full in 120 s: the learnt rate (2 - 0 - 1) / 120 is a lower bound of the true 1/60.
    assert sum(fake.sleeps) == pytest.approx(120 + MARGIN)
    # Clients that have seen no headers send at once: the first takes the last token, the next is refused.
    async with fresh() as first:
        await first.chat(model="sonar", messages=MESSAGES)
    async with fresh() as second:
        with pytest.raises(RateLimitError) as refused:
            await second.chat(model="sonar", messages=MESSAGES)
    assert refused.value.error is not None and refused.value.error.error.type == "request_rate_limit_exceeded"
    assert refused.value.response.headers["retry-after-ms"]
