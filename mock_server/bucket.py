"""The documented rate-limit algorithm: a token ("leaky") bucket per key, on an injectable clock.

A bucket holds at most `capacity` tokens (the burst) and refills continuously at `rate` tokens a
second; a new bucket starts full. Each request takes one token or, when less than one is left, is
refused at once. Refill and take happen under one lock, reading the clock inside it, so however
many threads or tasks share a bucket, the requests it admits never exceed
`capacity + rate × elapsed time` (to within a microsecond of refill: see TIME_SLACK).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

from mock_server.clock import Clock

# A client that waits exactly the advertised time must find its token there, but clock readings
# near 1.8e9 s carry about 2e-7 s of rounding: a request may come up to 1 µs of refill early. It
# borrows that sliver (tokens dip just below 0), so early admissions never add up.
TIME_SLACK = 1e-6

BucketKey = tuple[str, ...]


class Decision(NamedTuple):  # a tuple: built on every request, and cheaper than a frozen dataclass
    allowed: bool
    limit: int
    # Whole tokens left after this request.
    remaining: int
    # Seconds until one token is available (0 when allowed), and until the bucket is full again.
    retry_after: float
    full_after: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: BucketKey, capacity: int, rate: float) -> Decision:
        """Take one token from bucket `key` (`rate` in tokens per second), or say how long to wait."""
        # Called on every limited request: plain comparisons rather than min() and max() calls.
        slack = TIME_SLACK * rate
        with self._lock:
            now = self.clock.time()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(capacity), now)
            tokens = bucket.tokens
            # A clock that went back (Clock.reset) refills nothing, and does not freeze the bucket.
            if now > bucket.updated:
                tokens += (now - bucket.updated) * rate
                if tokens > capacity:
                    tokens = float(capacity)
            allowed = tokens + slack >= 1
            if allowed:
                tokens -= 1
            bucket.tokens = tokens
            bucket.updated = now
        left = tokens if tokens > 0 else 0.0
        # The slack lets 0.9999998 tokens count as 1, never more than a token's worth.
        remaining = int(left + (slack if slack < 0.5 else 0.5))
        retry_after = 0.0 if allowed else (1 - tokens) / rate
        return Decision(allowed, capacity, remaining, retry_after, (capacity - left) / rate)

    def forget(self, prefix: BucketKey = ()) -> None:
        """Drop the buckets whose key starts with `prefix` (all of them by default): they start full again."""
        with self._lock:
            for key in [key for key in self._buckets if key[: len(prefix)] == prefix]:
                del self._buckets[key]

    def reset(self, namespace: str | None) -> None:
        # Bucket keys start with the namespace, so one prefix drops exactly that namespace's buckets.
        self.forget(() if namespace is None else (namespace,))
