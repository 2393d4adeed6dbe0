"""The official SDK against a tier-0 key: 429 at the documented limit, then its own retry succeeds.

The SDK waits what `retry-after-ms` says (when 0 < wait <= 60 s). Its sleep is replaced by one
that advances the mock's clock, so the test waits for nothing and sees exactly what it slept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import perplexity
import perplexity._base_client
import pytest
from perplexity import AsyncPerplexity, Perplexity

from mock_server.clock import Clock
from tests.conftest import LiveServer, chat_body, make_app

TIER0 = "pplx-ci-tier0-abc"
QUESTION = chat_body()["messages"]


@pytest.fixture
def clock() -> Clock:
    return Clock(source=lambda: 1_780_000_000.0)


@pytest.fixture
def server(clock: Clock) -> Iterator[LiveServer]:
    with LiveServer(make_app(clock)) as server:
        yield server


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[float]:
    """The SDK's retry waits, which move the mock's clock instead of the test's."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)

    monkeypatch.setattr(perplexity._base_client, "time", SimpleNamespace(sleep=sleep, time=time.time))
    monkeypatch.setattr(perplexity._base_client, "anyio", SimpleNamespace(sleep=async_sleep))
    return waits


def test_sync_sdk_gets_429_then_its_retry_waits_exactly_long_enough(server: LiveServer, slept: list[float]) -> None:
    no_retries = Perplexity(api_key=TIER0, base_url=server.base_url, max_retries=0)
    for expected_remaining in range(49, -1, -1):
        raw = no_retries.chat.completions.with_raw_response.create(model="sonar", messages=QUESTION)
        assert raw.headers["x-ratelimit-remaining"] == str(expected_remaining)
    with pytest.raises(perplexity.RateLimitError) as caught:
        no_retries.chat.completions.create(model="sonar", messages=QUESTION)
    assert caught.value.status_code == 429 and caught.value.response.headers["retry-after-ms"] == "1200"
    assert slept == []

    retrying = Perplexity(api_key=TIER0, base_url=server.base_url, max_retries=2)
    raw = retrying.chat.completions.with_raw_response.create(model="sonar", messages=QUESTION)
    assert raw.retries_taken == 1 and raw.parse().model == "sonar"
    # One wait of exactly retry-after-ms, and it was enough.
    assert slept == [1.2]


@pytest.mark.anyio
async def test_async_sdk_retries_a_deep_research_429(clock: Clock, slept: list[float]) -> None:
    app = make_app(clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        sdk = AsyncPerplexity(api_key=TIER0, base_url="http://mock", http_client=http, max_retries=1)
        jobs = [await sdk.async_.chat.completions.create(request=chat_body("sonar-deep-research")) for _ in range(6)]
    assert len({job.id for job in jobs}) == 6
    # Five a minute on tier 0: the sixth waited 12 s for its token.
    assert slept == [12.0]


def test_a_tiny_refill_interval_needs_no_patching(tmp_path: Path) -> None:
    # Real time, but only a fraction of a second of it: one request per 0.3 s.
    limits = tmp_path / "limits.toml"
    limits.write_text('extends = "rl-v3"\n[limits.sonar]\nrequests = 1\nperiod = 0.3\n', encoding="utf-8")
    with LiveServer(make_app(rate_limits=str(limits))) as server:
        sdk = Perplexity(api_key=TIER0, base_url=server.base_url, max_retries=2)
        first = sdk.chat.completions.with_raw_response.create(model="sonar", messages=QUESTION)
        second = sdk.chat.completions.with_raw_response.create(model="sonar", messages=QUESTION)
    assert (first.retries_taken, second.retries_taken) == (0, 1)
    assert first.headers["x-ratelimit-limit"] == "1"
