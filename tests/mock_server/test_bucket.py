"""The token bucket on a frozen clock: burst, refill, exact waits, and no over-admission from threads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from mock_server.bucket import RateLimiter
from mock_server.clock import Clock

KEY = ("", "pplx-k", "sonar")


def frozen() -> Clock:
    return Clock(source=lambda: 1_780_000_000.0)


def test_a_new_bucket_allows_the_full_burst_then_refuses() -> None:
    limiter = RateLimiter(frozen())
    decisions = [limiter.acquire(KEY, 50, 50 / 60) for _ in range(51)]
    assert all(d.allowed for d in decisions[:50]) and not decisions[50].allowed
    assert [d.remaining for d in decisions[:3]] == [49, 48, 47] and decisions[49].remaining == 0
    refused = decisions[50]
    assert (refused.limit, refused.remaining) == (50, 0)
    assert refused.retry_after == pytest.approx(1.2) and refused.full_after == pytest.approx(60)


def test_refill_is_continuous_and_exact() -> None:
    clock = frozen()
    limiter = RateLimiter(clock)
    for _ in range(5):
        limiter.acquire(KEY, 5, 5 / 60)
    wait = limiter.acquire(KEY, 5, 5 / 60).retry_after
    assert wait == pytest.approx(12)
    clock.advance(wait - 0.001)
    assert not limiter.acquire(KEY, 5, 5 / 60).allowed
    clock.advance(0.001)
    # Waiting exactly the advertised time is enough, float noise or not.
    assert limiter.acquire(KEY, 5, 5 / 60).allowed
    assert not limiter.acquire(KEY, 5, 5 / 60).allowed


def test_refill_never_exceeds_capacity() -> None:
    clock = frozen()
    limiter = RateLimiter(clock)
    limiter.acquire(KEY, 3, 1.0)
    clock.advance(3600)
    assert [limiter.acquire(KEY, 3, 1.0).allowed for _ in range(4)] == [True, True, True, False]


def test_buckets_are_independent_and_can_be_forgotten() -> None:
    limiter = RateLimiter(frozen())
    other = ("", "pplx-k", "sonar-pro")
    assert limiter.acquire(KEY, 1, 1.0).allowed and not limiter.acquire(KEY, 1, 1.0).allowed
    assert limiter.acquire(other, 1, 1.0).allowed
    limiter.forget(("", "pplx-k"))
    assert limiter.acquire(KEY, 1, 1.0).allowed and limiter.acquire(other, 1, 1.0).allowed


def test_a_clock_that_goes_back_refills_nothing() -> None:
    clock = frozen()
    limiter = RateLimiter(clock)
    clock.advance(100)
    assert limiter.acquire(KEY, 1, 1.0).allowed
    clock.reset()
    assert not limiter.acquire(KEY, 1, 1.0).allowed
    clock.advance(1)
    assert limiter.acquire(KEY, 1, 1.0).allowed


class TickingClock(Clock):
    """Every reading is 1 ms after the previous one: time passes only as requests arrive."""

    def __init__(self) -> None:
        super().__init__(source=lambda: 0.0)
        self.readings = 0
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            self.readings += 1
            return self.readings * 0.001


@pytest.fixture
def busy_switching() -> Iterator[None]:
    # Switch threads as often as possible, to give a race every chance to show.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.usefixtures("busy_switching")
def test_threads_hammering_one_bucket_never_over_admit() -> None:
    capacity, rate, threads, per_thread = 20, 50.0, 16, 250
    clock = TickingClock()
    limiter = RateLimiter(clock)
    admitted = [0] * threads
    start = threading.Barrier(threads)

    def hammer(index: int) -> None:
        start.wait()
        for _ in range(per_thread):
            if limiter.acquire(KEY, capacity, rate).allowed:
                admitted[index] += 1

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = clock.readings * 0.001
    assert clock.readings == threads * per_thread
    assert sum(admitted) <= capacity + rate * elapsed
    # The clock is read under the lock, so the n-th request sees the same time whatever thread
    # sends it: the threaded run admits exactly what one thread would.
    sequential = RateLimiter(TickingClock())
    expected = sum(sequential.acquire(KEY, capacity, rate).allowed for _ in range(threads * per_thread))
    assert sum(admitted) == expected


def test_remaining_never_exceeds_the_capacity_at_huge_rates() -> None:
    # A benchmark's "never refuse" limit refills a billion tokens a second: the clock's slack
    # must not show up as a thousand tokens more than the bucket holds.
    limiter = RateLimiter(Clock(source=lambda: 1_800_000_000.0))
    for taken in range(1, 4):
        decision = limiter.acquire(KEY, 1_000_000_000, 1e9)
        assert decision.allowed and decision.remaining == 1_000_000_000 - taken
