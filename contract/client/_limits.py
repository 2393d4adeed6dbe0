"""Client-side backpressure: token buckets per rate limit, fed by the tier table and by headers.

The API limits each model (chat) and each endpoint (search, async create/list/get) with a token
bucket: capacity = burst, refilled continuously at `requests / period`. The client keeps its own
estimate of each bucket and spaces requests so they arrive when the server has a token:

- `reserve(name)` takes a token now or books the next one to refill, returning how long the caller
  must wait first; bookings may drive the balance negative, so concurrent callers queue in order.
  `refund(name)` gives the token back when the request is not sent after all.
- `observe(name, headers)` tightens the estimate from `X-RateLimit-Limit` (capacity),
  `X-RateLimit-Remaining` (whole tokens left) and `X-RateLimit-Reset` (seconds until full, rounded
  up). The balance never rises above what the server reported. With no table entry, the refill
  rate is learnt from the headers: `(limit - remaining - 1) / reset` is a lower bound of the
  true rate, and the largest bound seen is used.
- A 429 empties the bucket.

`RL_V3` is the newest documented tier table (2026); the limit names match the mock's files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["RL_V3", "Limit", "RateLimiter", "limits_for_tier"]

# Added to every wait. The server's bucket starts when our first request arrives, which took a
# connection set-up longer than later requests on a kept-alive connection; a request timed to the
# exact refill instant would then arrive a little early (and may meet 0.9999 tokens anyway). A
# shift of 20 ms absorbs that without lowering throughput: waits are booked ahead, not summed.
MARGIN = 0.02


@dataclass(frozen=True)
class Limit:
    """One bucket: `requests` tokens per `period` seconds, holding at most `burst` (default `requests`)."""

    requests: float
    period: float = 60.0
    burst: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.period

    @property
    def capacity(self) -> float:
        return self.requests if self.burst is None else self.burst


def _per_tier(*values: float) -> tuple[float, ...]:
    return values


# Requests per minute per usage tier 0-5 (docs.perplexity.ai rate-limits-usage-tiers, 2026).
_SONAR = _per_tier(50, 150, 500, 1000, 4000, 4000)
_DEEP = _per_tier(5, 10, 20, 40, 60, 100)
RL_V3: dict[str, tuple[float, ...] | Limit] = {
    "sonar": _SONAR,
    "sonar-pro": _SONAR,
    "sonar-reasoning-pro": _SONAR,
    "sonar-deep-research": _DEEP,
    "async-create": _DEEP,
    "async-list": _per_tier(*[3000] * 6),
    "async-get": _per_tier(*[6000] * 6),
    "search": Limit(requests=50, period=1, burst=50),  # the same on every tier
}


def limits_for_tier(tier: int, table: Mapping[str, tuple[float, ...] | Limit] = RL_V3) -> dict[str, Limit]:
    """The limits a key of usage `tier` (0-5) has under `table`."""
    if not 0 <= tier <= 5:
        raise ValueError(f"usage tier must be 0-5, got {tier}")
    return {name: row if isinstance(row, Limit) else Limit(requests=row[tier]) for name, row in table.items()}


@dataclass
class _Bucket:
    tokens: float
    updated: float
    capacity: float | None
    rate: float | None

    def refill(self, now: float) -> None:
        if self.rate is not None and self.capacity is not None and now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)


class RateLimiter:
    """Token-bucket estimates per limit name, safe to share between threads.

    Args:
        limits: Known limits by name (see `limits_for_tier`); other names are learnt from headers.
        clock: Monotonic seconds; injected so tests control time.
    """

    def __init__(self, limits: Mapping[str, Limit] | None = None, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        now = clock()
        for name, limit in (limits or {}).items():
            self._buckets[name] = _Bucket(limit.capacity, now, limit.capacity, limit.rate)
        self._known = frozenset(self._buckets)

    def reserve(self, name: str) -> float:
        """Take a token for one request on `name`; returns the seconds to wait before sending it."""
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or bucket.rate is None:
                return 0.0
            now = self._clock()
            bucket.refill(now)
            bucket.tokens -= 1.0
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / bucket.rate + MARGIN

    def refund(self, name: str) -> None:
        """Give back the token `reserve` took for a request that was never sent (its call gave up
        or was cancelled first), so that calls which never reach the server leave no debt behind."""
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or bucket.rate is None:
                return
            bucket.refill(self._clock())
            bucket.tokens += 1.0
            if bucket.capacity is not None and bucket.tokens > bucket.capacity:
                bucket.tokens = bucket.capacity

    def observe(self, name: str, headers: Mapping[str, str], status: int) -> None:
        """Update the estimate for `name` from one response's headers and status."""
        limit, remaining, reset = (_number(headers, f"x-ratelimit-{h}") for h in ("limit", "remaining", "reset"))
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(name)
            if bucket is None:
                if limit is None:
                    return
                bucket = self._buckets[name] = _Bucket(limit if remaining is None else remaining, now, limit, None)
            bucket.refill(now)
            if limit is not None:
                bucket.capacity = limit
                if name not in self._known and remaining is not None and reset:
                    bound = (limit - remaining - 1.0) / reset
                    if bound > 0 and (bucket.rate is None or bound > bucket.rate):
                        bucket.rate = bound
            if remaining is not None:
                bucket.tokens = min(bucket.tokens, remaining)
            if status == 429:
                bucket.tokens = min(bucket.tokens, 0.0)

    def tokens(self, name: str) -> float | None:
        """The current estimate of tokens left on `name` (negative: booked ahead), or None."""
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None:
                return None
            bucket.refill(self._clock())
            return bucket.tokens


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
