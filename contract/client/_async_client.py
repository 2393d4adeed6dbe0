"""`AsyncClient`: the asyncio/trio reference client for the Perplexity (Sonar) API, on `httpx.AsyncClient`."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import anyio
import httpx

from contract.client._base import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_CONCURRENCY,
    JOB_LIST,
    SEARCH,
    TERMINAL_STATUSES,
    BaseClient,
    Endpoint,
    Headers,
    Message,
    chat_body,
    chat_endpoint,
    job_body,
    job_create,
    job_get,
    next_poll,
    public_error,
)
from contract.client._errors import JobTimeoutError, status_error
from contract.client._limits import Limit
from contract.client._retry import RetryPolicy, should_retry
from contract.client._stream import AsyncChatStream
from contract.schemas import AsyncChatCompletionJob, AsyncChatCompletionList, ChatCompletion, SearchResponse

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient):
    """The async client: the same API as `Client`, awaited; share one per event loop.

    ```
    async with AsyncClient(api_key="pplx-...") as client:
        answer = await client.chat(model="sonar", messages=[{"role": "user", "content": "Hi"}])
    ```

    Args:
        api_key: The key sent as `Authorization: Bearer`; default `PERPLEXITY_API_KEY`. Never
            shown in a repr, log line or exception.
        base_url: Default `PERPLEXITY_BASE_URL`, else `https://api.perplexity.ai`.
        timeout: Per-attempt `httpx.Timeout` (connect, read, write, pool) or one number for all.
            Default: connect 5 s, read 600 s, write 30 s, pool 30 s.
        total_timeout: Seconds one call may take across all attempts, rate-limit waits, retry
            waits and the wait for a concurrency slot (default 900; `None` for no bound). For a
            stream it bounds getting the 200.
        retry: The `RetryPolicy` (default: 2 retries, 0.5 s base, 8 s cap).
        tier: The key's usage tier (0-5): pace requests by the RL-V3 table from the start.
            Without it, limits are learnt from `X-RateLimit-*` headers.
        rate_limits: Limits by name (model name, `search`, `async-create`, `async-list`,
            `async-get`), overriding the tier table.
        max_concurrency: Requests in flight at once; a stream holds its slot until closed.
        limits: Connection pool settings (default: 100 connections, 50 keep-alive, 30 s expiry).
        headers: Extra headers sent with every request.
        transport: An async `httpx` transport (tests: `httpx.MockTransport`, `httpx.ASGITransport`).
        clock: Monotonic seconds (default `time.monotonic`); tests inject a fake.
        sleep: How to wait (default `anyio.sleep`); tests inject a fake.
        rng: Randomness for backoff jitter.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        total_timeout: float | None = 900.0,
        retry: RetryPolicy | None = None,
        tier: int | None = None,
        rate_limits: Mapping[str, Limit] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        limits: httpx.Limits = DEFAULT_LIMITS,
        headers: Headers | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            total_timeout=total_timeout,
            retry=retry,
            tier=tier,
            rate_limits=rate_limits,
            max_concurrency=max_concurrency,
            headers=headers,
            clock=clock,
            wall_clock=time.time,
            rng=rng,
        )
        self._http = httpx.AsyncClient(limits=limits, transport=transport, timeout=self.timeout)
        self._slots = anyio.Semaphore(max_concurrency)
        self._sleep = sleep

    # -- API ------------------------------------------------------------------------------------

    async def chat(
        self, *, model: str, messages: Sequence[Message], extra_headers: Headers | None = None, **params: Any
    ) -> ChatCompletion:
        """Create a chat completion (`POST /chat/completions`) and return it whole.

        Args:
            model: `sonar`, `sonar-pro`, `sonar-reasoning-pro` or `sonar-deep-research`.
            messages: The conversation, as dicts with `role` and `content`.
            extra_headers: Headers for this request only.
            **params: Any other body field (`max_tokens`, `search_domain_filter`, ...).

        Raises:
            APIStatusError: A subclass per status, after retries allowed by the policy.
            APIConnectionError: Including `APITimeoutError`.
        """
        body = chat_body(model, messages, False, params)
        response = await self._request(chat_endpoint(model), json=body, extra_headers=extra_headers)
        return ChatCompletion.model_validate_json(response.content)

    async def chat_stream(
        self, *, model: str, messages: Sequence[Message], extra_headers: Headers | None = None, **params: Any
    ) -> AsyncChatStream:
        """Start a streamed chat completion; use the result with `async with` and `async for`.

        Retries (under the policy) happen only until the 200 arrives; after that a failure raises
        `IncompleteStreamError` or `APIStreamError` and is not retried.
        """
        body = chat_body(model, messages, True, params)
        response = await self._request(chat_endpoint(model), json=body, extra_headers=extra_headers, stream=True)
        return AsyncChatStream(response, self._slots.release)

    async def search(
        self, *, query: str | Sequence[str], extra_headers: Headers | None = None, **params: Any
    ) -> SearchResponse:
        """Search the web (`POST /search`): ranked pages for one query or up to five.

        Args:
            query: A query or a list of 1-5 queries.
            **params: `max_results`, `search_domain_filter`, `country`, ... as documented.
        """
        body = {"query": query if isinstance(query, str) else list(query), **params}
        response = await self._request(SEARCH, json=body, extra_headers=extra_headers)
        return SearchResponse.model_validate_json(response.content)

    async def create_job(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        idempotency_key: str | None = None,
        extra_headers: Headers | None = None,
        **params: Any,
    ) -> AsyncChatCompletionJob:
        """Submit an async chat job (`POST /async/chat/completions`; only `sonar-deep-research`).

        Args:
            idempotency_key: The server returns the same job for the same key; with one, the
                create is retried like an idempotent request.
        """
        body = job_body(model, messages, idempotency_key, params)
        response = await self._request(job_create(idempotency_key), json=body, extra_headers=extra_headers)
        return AsyncChatCompletionJob.model_validate_json(response.content)

    async def get_job(self, job_id: str, *, extra_headers: Headers | None = None) -> AsyncChatCompletionJob:
        """Read one async job (`GET /async/chat/completions/{id}`): its status and, when done, its response."""
        response = await self._request(job_get(job_id), extra_headers=extra_headers)
        return AsyncChatCompletionJob.model_validate_json(response.content)

    async def list_jobs(
        self, *, limit: int | None = None, next_token: str | None = None, extra_headers: Headers | None = None
    ) -> AsyncChatCompletionList:
        """List this key's async jobs, newest first (`GET /async/chat/completions`)."""
        params = {k: v for k, v in (("limit", limit), ("next_token", next_token)) if v is not None}
        response = await self._request(JOB_LIST, params=params, extra_headers=extra_headers)
        return AsyncChatCompletionList.model_validate_json(response.content)

    async def wait_for_job(
        self, job_id: str, *, timeout: float = 1800.0, poll_interval: float = 1.0, max_poll_interval: float = 30.0
    ) -> AsyncChatCompletionJob:
        """Poll a job until it is `COMPLETED` or `FAILED`, waiting ×1.5 longer after each poll.

        Returns:
            The job in its terminal state (check `status`: a `FAILED` job is returned, not raised).

        Raises:
            JobTimeoutError: `timeout` seconds passed first.
        """
        deadline = self._clock() + timeout
        interval = poll_interval
        while True:
            job = await self.get_job(job_id)
            if job.status in TERMINAL_STATUSES:
                return job
            left = deadline - self._clock()
            if left <= 0:
                raise JobTimeoutError(job_id, job.status, timeout)
            await self._sleep(min(interval, left))
            interval = next_poll(interval, max_poll_interval)

    # -- plumbing -------------------------------------------------------------------------------

    async def _request(
        self,
        endpoint: Endpoint,
        *,
        json: object | None = None,
        params: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with pacing, the concurrency cap and retries; return a 2xx response.

        A streamed 2xx keeps its concurrency slot: `AsyncChatStream.aclose` gives it back.
        """
        deadline = self._deadline()
        retries = 0
        while True:
            await self._take_turn(endpoint, deadline)
            # From here the call holds a concurrency slot, which it gives back however the attempt
            # ends (an answer, an error, a cancellation) unless a stream takes it over.
            keep_slot = False
            response: httpx.Response | None = None
            try:
                # Built once the slot is ours, so its timeouts leave out the time spent waiting.
                request = self._build(
                    self._http, endpoint, deadline, json=json, params=params, extra_headers=extra_headers
                )
                try:
                    response = await self._http.send(request, stream=stream)
                except httpx.TransportError as exc:
                    error: Exception = exc
                else:
                    self.rate_limiter.observe(endpoint.limit, response.headers, response.status_code)
                    if response.is_success:
                        keep_slot = stream
                        return response
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                    error = status_error(response)
            finally:
                if not keep_slot:
                    self._slots.release()
            if retries < self.retry.max_retries and should_retry(
                self.retry, idempotent=endpoint.idempotent, response=response, error=error
            ):
                why = str(response.status_code if response else error)
                delay = self._retry_wait(retries, response, endpoint, why, deadline)
                if delay is not None:
                    await self._sleep(delay)
                    retries += 1
                    continue
            raise public_error(error, request) from (error if isinstance(error, httpx.TransportError) else None)

    async def _take_turn(self, endpoint: Endpoint, deadline: float | None) -> None:
        """Wait for the endpoint's rate-limit token, then for a concurrency slot. A call that gives
        up on the way (its total timeout, a cancellation) gives the token back: it sent nothing."""
        wait = self.rate_limiter.reserve(endpoint.limit)
        try:
            self._check_deadline(deadline, wait, endpoint)
            if wait > 0:
                await self._sleep(wait)
            try:
                self._slots.acquire_nowait()
            except anyio.WouldBlock:
                with anyio.move_on_after(self._slot_wait(deadline)) as waiting:
                    await self._slots.acquire()
                if waiting.cancelled_caught:
                    raise self._no_slot(endpoint) from None
        except BaseException:
            self.rate_limiter.refund(endpoint.limit)
            raise

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
