"""What the sync and async clients share: configuration, endpoints, headers, deadlines.

Nothing here does I/O; `Client` and `AsyncClient` run the same steps with blocking or awaited calls.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from contract.client._errors import APIConnectionError, APIError, APITimeoutError
from contract.client._limits import Limit, RateLimiter, limits_for_tier
from contract.client._retry import RetryPolicy, retry_delay

DEFAULT_BASE_URL = "https://api.perplexity.ai"
# connect 5 s as the official SDK; a deep-research answer can take minutes, hence the long read.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=600.0, write=30.0, pool=30.0)
DEFAULT_TOTAL_TIMEOUT = 900.0
# The SDK performance guide's "optimized connection settings".
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50, keepalive_expiry=30.0)
DEFAULT_MAX_CONCURRENCY = 64
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED"})
USER_AGENT = "pplx-mock-reference-client/0.1"

log = logging.getLogger("contract.client")

Headers = Mapping[str, str]
Message = Mapping[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One operation: where it goes, which rate limit it spends, whether a repeat is harmless."""

    method: str
    path: str
    limit: str
    idempotent: bool


def chat_endpoint(model: str) -> Endpoint:
    return Endpoint("POST", "/chat/completions", model, idempotent=False)


SEARCH = Endpoint("POST", "/search", "search", idempotent=False)
JOB_LIST = Endpoint("GET", "/async/chat/completions", "async-list", idempotent=True)


def job_create(idempotency_key: str | None) -> Endpoint:
    # With an idempotency key the server returns the same job for a repeat, so a retry is harmless.
    return Endpoint("POST", "/async/chat/completions", "async-create", idempotent=idempotency_key is not None)


def job_get(job_id: str) -> Endpoint:
    return Endpoint("GET", f"/async/chat/completions/{job_id}", "async-get", idempotent=True)


class BaseClient:
    """Configuration common to `Client` and `AsyncClient` (see `Client` for the arguments)."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: httpx.Timeout | float | None,
        total_timeout: float | None,
        retry: RetryPolicy | None,
        tier: int | None,
        rate_limits: Mapping[str, Limit] | None,
        max_concurrency: int,
        headers: Headers | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        rng: random.Random | None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("PERPLEXITY_API_KEY")
        if not key:
            raise APIError("No API key: pass api_key or set PERPLEXITY_API_KEY.")
        self._api_key = key
        self.base_url = (base_url or os.environ.get("PERPLEXITY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
        self.total_timeout = total_timeout
        self.retry = retry or RetryPolicy()
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        limits = dict(limits_for_tier(tier)) if tier is not None else {}
        limits.update(rate_limits or {})
        self.rate_limiter = RateLimiter(limits, clock=clock)
        self._extra_headers = dict(headers or {})
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key='pplx-***')"

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        endpoint: Endpoint,
        deadline: float | None,
        *,
        json: object | None,
        params: Mapping[str, Any] | None,
        extra_headers: Headers | None,
    ) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._extra_headers,
            **(extra_headers or {}),
            "Authorization": f"Bearer {self._api_key}",
        }
        return http.build_request(
            endpoint.method,
            self.base_url + endpoint.path,
            json=json,
            params=params,
            headers=headers,
            timeout=self._attempt_timeout(deadline),
        )

    def _deadline(self) -> float | None:
        return None if self.total_timeout is None else self._clock() + self.total_timeout

    def _attempt_timeout(self, deadline: float | None) -> httpx.Timeout:
        if deadline is None:
            return self.timeout
        left = max(deadline - self._clock(), 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        t = self.timeout
        return httpx.Timeout(connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool))

    def _slot_wait(self, deadline: float | None) -> float | None:
        """How long a call may wait for a concurrency slot: what is left of its total timeout (None:
        for ever). The wait itself is on the real clock; an injected clock only moves when the
        client sleeps, so with the default one the two agree."""
        return None if deadline is None else max(deadline - self._clock(), 0.0)

    def _no_slot(self, endpoint: Endpoint) -> APITimeoutError:
        return APITimeoutError(
            f"{endpoint.method} {endpoint.path} would exceed the total timeout of {self.total_timeout:g} s "
            f"waiting for one of its {self.max_concurrency} concurrent slots."
        )

    def _fits(self, deadline: float | None, wait: float) -> bool:
        """Whether waiting `wait` seconds still leaves the call within its total timeout."""
        return deadline is None or self._clock() + wait <= deadline

    def _check_deadline(self, deadline: float | None, wait: float, endpoint: Endpoint) -> None:
        if not self._fits(deadline, wait):
            raise APITimeoutError(
                f"{endpoint.method} {endpoint.path} would exceed the total timeout of {self.total_timeout:g} s."
            )

    def _retry_wait(
        self, retries: int, response: httpx.Response | None, endpoint: Endpoint, why: str, deadline: float | None
    ) -> float | None:
        """The wait before the next attempt; None when it would pass the total timeout, so that the
        call ends with the error it has (the server's answer, body included), not a timeout of its own."""
        delay = retry_delay(
            self.retry,
            retries,
            response.headers if response is not None else None,
            rng=self._rng,
            wall_time=self._wall_clock(),
        )
        if not self._fits(deadline, delay):
            log.info("Not retrying %s %s (%s): waiting %.3f s would exceed the total timeout of %g s",
                     endpoint.method, endpoint.path, why, delay, self.total_timeout)  # fmt: skip
            return None
        log.info("Retrying %s %s in %.3f s (retry %d of %d): %s", endpoint.method, endpoint.path, delay,
                 retries + 1, self.retry.max_retries, why)  # fmt: skip
        return delay


def chat_body(model: str, messages: Sequence[Message], stream: bool, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": model, "messages": [dict(m) for m in messages], **params, "stream": stream}


def job_body(model: str, messages: Sequence[Message], idempotency_key: str | None, params: Mapping[str, Any]) -> Any:
    request = {"model": model, "messages": [dict(m) for m in messages], **params}
    body: dict[str, Any] = {"request": request}
    if idempotency_key is not None:
        body["idempotency_key"] = idempotency_key
    return body


def next_poll(interval: float, max_interval: float) -> float:
    """Polling backoff for `wait_for_job`: ×1.5 a poll, capped."""
    return min(interval * 1.5, max_interval)


def public_error(error: Exception, request: httpx.Request) -> Exception:
    """The client's exception for a final failure (status errors are already built)."""
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(error).__name__}).", request)
    if isinstance(error, httpx.TransportError):
        return APIConnectionError(f"Connection error ({type(error).__name__}).", request)
    return error
