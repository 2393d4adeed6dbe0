"""When to retry a failed attempt, and how long to wait first.

The rule (see README "Reference client"):

- `x-should-retry: true|false` on a response overrides everything below (but never the attempt budget).
- Idempotent requests (GET: job get and list) are retried on 408, 409, 429 and >= 500, and on every
  connection failure and timeout, as the official SDK does.
- Non-idempotent requests (POST: chat, search, job create) may already have been processed, so
  they are retried only when the server cannot have acted on them: the connection was never made
  (connect error, connect or pool timeout), or the server said it refused the work (429, 503).
  `RetryPolicy(retry_non_idempotent=True)` treats them like idempotent requests.
- A stream that fails after its 200 arrived is never retried (the caller has seen chunks).

The wait is the server's `retry-after-ms` (milliseconds), else its `Retry-After` (seconds, or an
HTTP date), when that is more than 0 and at most `max_retry_after`; otherwise exponential backoff
with full jitter: uniform(0, min(max_delay, initial_delay * 2**retries_so_far)).
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = ["RetryPolicy", "retry_delay", "should_retry"]

# The server refused these before doing the work, so even a POST is safe to send again.
REFUSED_STATUSES = frozenset({429, 503})
# Failures that happen before the request reaches the server.
UNSENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries.

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: Backoff base in seconds: the first retry waits up to this long.
        max_delay: Cap on one backoff wait, in seconds.
        max_retry_after: The longest server-advised wait honoured, in seconds; longer advice falls
            back to backoff.
        retry_non_idempotent: Also retry POSTs after failures that may follow processing
            (408, 409, 500, 502, 504, read errors). Chat and search are billed per request.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    retry_non_idempotent: bool = False


def should_retry(
    policy: RetryPolicy,
    *,
    idempotent: bool,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> bool:
    """Whether one failed attempt (an error response, or a transport `error`) may be sent again."""
    safe = idempotent or policy.retry_non_idempotent
    if response is not None:
        advice = str(response.headers.get("x-should-retry", "")).strip().lower()
        if advice in ("true", "false"):
            return advice == "true"
        status = response.status_code
        if status in REFUSED_STATUSES:
            return True
        return safe and (status in (408, 409) or status >= 500)
    if error is None:
        return False
    if isinstance(error, UNSENT_ERRORS):
        return True
    return safe and isinstance(error, httpx.TransportError)


def retry_delay(
    policy: RetryPolicy,
    retries_so_far: int,
    headers: Mapping[str, str] | None = None,
    *,
    rng: random.Random,
    wall_time: float,
) -> float:
    """Seconds to wait before retry number `retries_so_far + 1`.

    Args:
        headers: The failed response's headers, if there was a response.
        rng: The source of jitter.
        wall_time: The current Unix time, to read a `Retry-After` HTTP date.
    """
    advised = server_advice(headers or {}, wall_time)
    if advised is not None and 0 < advised <= policy.max_retry_after:
        return advised
    ceiling = min(policy.max_delay, policy.initial_delay * 2.0**retries_so_far)
    return rng.uniform(0.0, ceiling)


def server_advice(headers: Mapping[str, str], wall_time: float) -> float | None:
    """The wait `retry-after-ms` or `Retry-After` asks for, in seconds, or None."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if (ms := lowered.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - wall_time
