"""The retry rule and the wait it computes, from hand-built responses."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from contract.client import RetryPolicy, retry_delay, should_retry

POLICY = RetryPolicy()
NOW = 1_800_000_000.0


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_idempotent_requests_retry_the_sdk_statuses(status: int) -> None:
    assert should_retry(POLICY, idempotent=True, response=response(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert not should_retry(POLICY, idempotent=True, response=response(status))


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (408, False), (409, False), (500, False)])
def test_non_idempotent_requests_retry_only_refusals(status: int, retried: bool) -> None:
    assert should_retry(POLICY, idempotent=False, response=response(status)) is retried
    assert should_retry(RetryPolicy(retry_non_idempotent=True), idempotent=False, response=response(status))


def test_x_should_retry_overrides_the_status() -> None:
    assert should_retry(POLICY, idempotent=False, response=response(500, x_should_retry="true"))
    assert not should_retry(POLICY, idempotent=True, response=response(429, x_should_retry="false"))


@pytest.mark.parametrize("error", [httpx.ConnectError("x"), httpx.ConnectTimeout("x"), httpx.PoolTimeout("x")])
def test_errors_before_sending_are_retried_for_every_request(error: Exception) -> None:
    assert should_retry(POLICY, idempotent=False, error=error)


@pytest.mark.parametrize("error", [httpx.ReadTimeout("x"), httpx.ReadError("x"), httpx.RemoteProtocolError("x")])
def test_errors_after_sending_are_retried_only_when_idempotent(error: Exception) -> None:
    assert should_retry(POLICY, idempotent=True, error=error)
    assert not should_retry(POLICY, idempotent=False, error=error)


def delay(retries: int = 0, policy: RetryPolicy = POLICY, seed: int = 0, **headers: str) -> float:
    rng = random.Random(seed)
    return retry_delay(policy, retries, response(429, **headers).headers, rng=rng, wall_time=NOW)


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert delay(retry_after_ms="250", retry_after="3") == 0.25


def test_retry_after_in_seconds_and_fractional_seconds() -> None:
    assert delay(retry_after="3") == 3.0
    assert delay(retry_after="1.5") == 1.5


def test_retry_after_as_an_http_date() -> None:
    date = email.utils.formatdate(NOW + 7, usegmt=True)
    assert delay(retry_after=date) == pytest.approx(7.0)


@pytest.mark.parametrize("value", ["0", "-1", "61", "soon"])
def test_advice_outside_0_to_60_seconds_falls_back_to_backoff(value: str) -> None:
    assert 0 <= delay(retry_after=value) <= POLICY.initial_delay


def test_full_jitter_stays_within_the_exponential_ceiling_and_the_cap() -> None:
    rng = random.Random(1)
    for retries, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        waits = [retry_delay(POLICY, retries, None, rng=rng, wall_time=NOW) for _ in range(500)]
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > 0.9 * ceiling and min(waits) < 0.1 * ceiling  # full jitter spans the range


def test_the_cap_and_the_advice_limit_are_configurable() -> None:
    policy = RetryPolicy(initial_delay=1, max_delay=2, max_retry_after=120)
    assert delay(5, policy, retry_after="90") == 90
    rng = random.Random(2)
    assert max(retry_delay(policy, 6, None, rng=rng, wall_time=NOW) for _ in range(200)) <= 2
