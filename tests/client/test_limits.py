"""The client-side token buckets: the tier table, pacing, and learning from headers."""

from __future__ import annotations

import pytest

from contract.client import RL_V3, Limit, RateLimiter, limits_for_tier
from contract.client._limits import MARGIN
from tests.client.fakes import FakeTime


def test_the_tier_table_is_rl_v3() -> None:
    assert limits_for_tier(0)["sonar"] == Limit(requests=50)
    assert limits_for_tier(5)["sonar-deep-research"].requests == 100
    assert limits_for_tier(3)["search"] == Limit(requests=50, period=1, burst=50)
    assert set(RL_V3) >= {"sonar", "sonar-pro", "async-create", "async-list", "async-get"}
    with pytest.raises(ValueError, match="0-5"):
        limits_for_tier(6)


def test_a_burst_goes_at_once_then_requests_are_spaced_by_the_refill() -> None:
    fake = FakeTime()
    limiter = RateLimiter({"sonar": Limit(requests=60, burst=3)}, clock=fake)
    waits = [limiter.reserve("sonar") for _ in range(5)]
    assert waits == [0, 0, 0, pytest.approx(1.0 + MARGIN), pytest.approx(2.0 + MARGIN)]
    fake.sleep(10)
    assert limiter.tokens("sonar") == pytest.approx(3.0)


def test_a_refund_returns_a_booking_and_never_overfills() -> None:
    fake = FakeTime()
    limiter = RateLimiter({"sonar": Limit(requests=60, burst=2)}, clock=fake)
    limiter.reserve("sonar")
    limiter.reserve("sonar")
    assert limiter.reserve("sonar") == pytest.approx(1.0 + MARGIN)
    limiter.refund("sonar")  # the booked request was not sent: the next one needs no longer wait
    assert limiter.reserve("sonar") == pytest.approx(1.0 + MARGIN)
    fake.sleep(10)
    limiter.refund("sonar")
    assert limiter.tokens("sonar") == pytest.approx(2.0)
    limiter.refund("unknown")  # nothing booked, nothing to give back
    assert limiter.tokens("unknown") is None


def test_headers_lower_the_estimate_and_a_429_empties_it() -> None:
    fake = FakeTime()
    limiter = RateLimiter({"sonar": Limit(requests=60)}, clock=fake)
    limiter.observe("sonar", {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "10"}, 200)
    assert limiter.tokens("sonar") == 10
    limiter.observe("sonar", {}, 429)
    assert limiter.tokens("sonar") == 0
    assert limiter.reserve("sonar") == pytest.approx(1.0 + MARGIN)


def test_an_unknown_limit_is_learnt_from_headers_conservatively() -> None:
    fake = FakeTime()
    limiter = RateLimiter(clock=fake)
    assert limiter.reserve("custom") == 0  # nothing known yet: no pacing
    # capacity 10, 4 left, full again in 3 s (rounded up): the rate is at least (10 - 4 - 1) / 3.
    limiter.observe("custom", {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "4", "x-ratelimit-reset": "3"}, 200)
    assert limiter.tokens("custom") == 4
    for _ in range(4):
        assert limiter.reserve("custom") == 0
    assert limiter.reserve("custom") == pytest.approx(3 / 5 + MARGIN)
