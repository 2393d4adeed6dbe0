"""Locust users that drive the reference client, and the metrics they report.

Every HTTP attempt (retries included) is one Locust request, typed by its method and named by its
route, reported by `LocustTransport` under the client. The users add rows of their own:

| Type | Name | Value |
|---|---|---|
| `CALL` | the operation (`chat`, `stream`, `search`, `job`) | one client call end to end: pacing, retries, polls |
| `TTFT` | the model | time to the first content chunk, from the call |
| `ITL_US` | the model | mean gap between content chunks of one stream, in microseconds |
| `TPS` | the model | content chunks a second after the first (the "response time" column holds it) |
| `STREAM` | `completed` | a stream that reached `[DONE]`; a failure is one that broke after its 200 |

Locust keeps a value under 100 as a whole number in its percentiles, so the gap between chunks,
often under a millisecond on the mock, is reported in microseconds: 0.56 ms is 560, not 1.

One `Client` is shared by the users of a Locust process, so its rate limiter and concurrency cap
govern them together, as they would an application's threads.

Importing this module (every profile does) also has Locust write its CSV files once more with the
final stats when it quits (`load.reports`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from locust import User, events
from locust.env import Environment
from locust.user.wait_time import constant_throughput

from contract.client import APIError, Client, Limit, RateLimiter, RetryPolicy, limits_for_tier
from load.reports import rewrite_csv_at_quit
from load.settings import LoadSettings

__all__ = ["LocustTransport", "NoPacing", "PplxUser", "RawHttpxUser"]

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
_JOB_PATH = re.compile(r"^(/v1)?/async/(chat/completions|sonar)/[^/]+$")
_clients: dict[LoadSettings, Client] = {}

events.init.add_listener(rewrite_csv_at_quit)  # type: ignore[no-untyped-call]


def route_name(path: str) -> str:
    """The Locust row for a path: job ids collapse to `{id}`."""
    if _JOB_PATH.match(path):
        return path.rsplit("/", 1)[0] + "/{id}"
    return path


class LocustTransport(httpx.BaseTransport):
    """An httpx transport that reports each attempt to Locust: a non-2xx status is a failure named `HTTP <status>`."""

    def __init__(self, environment: Environment, inner: httpx.BaseTransport | None = None) -> None:
        self.environment = environment
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            self._fire(request, start, 0, type(exc).__name__)
            raise
        failure = None if response.status_code < 400 else f"HTTP {response.status_code}"
        self._fire(request, start, int(response.headers.get("content-length", 0)), failure)
        return response

    def _fire(self, request: httpx.Request, start: float, length: int, failure: str | None) -> None:
        self.environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type=request.method,
            name=route_name(request.url.path),
            response_time=(time.perf_counter() - start) * 1000,
            response_length=length,
            exception=failure,
            context={},
        )

    def close(self) -> None:
        self.inner.close()


def paced_limits(settings: LoadSettings) -> dict[str, Limit]:
    """The tier's limits, slowed by the headroom; none with the limiter off."""
    if not settings.limiter:
        return {}
    slow = 1.0 - settings.headroom
    return {
        name: Limit(requests=limit.requests * slow, period=limit.period, burst=limit.capacity)
        for name, limit in limits_for_tier(settings.tier).items()
    }


def shared_client(environment: Environment, settings: LoadSettings) -> Client:
    """The process's reference client for these settings (created on first use)."""
    client = _clients.get(settings)
    if client is None:
        client = _clients[settings] = Client(
            api_key=settings.api_key,
            base_url=settings.base_url,
            rate_limits=paced_limits(settings),
            retry=RetryPolicy(max_retries=settings.retries),
            max_concurrency=settings.concurrency,
            headers=settings.headers,
            transport=LocustTransport(environment),
            total_timeout=120.0,
            # Looked up at call time: Locust's gevent patches `time.sleep`.
            sleep=lambda seconds: time.sleep(seconds),
        )
        if not settings.limiter:
            # Without a tier the limiter would still learn from headers; "off" means no pacing at all.
            client.rate_limiter = NoPacing(clock=time.monotonic)
    return client


class NoPacing(RateLimiter):
    """A limiter that never waits and learns nothing: `PPLX_LOAD_LIMITER=off`."""

    def reserve(self, name: str) -> float:
        return 0.0

    def observe(self, name: str, headers: Mapping[str, str], status: int) -> None:
        return None


class _Reporting(User):
    """What both users share: settings, pacing and the `CALL` rows."""

    abstract = True
    default_tier: ClassVar[int] = 5
    default_rps: ClassVar[float] = 1.0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.settings = LoadSettings.from_env(tier=self.default_tier, rps=self.default_rps)
        self._pace = constant_throughput(self.settings.rps) if self.settings.rps > 0 else None

    def wait_time(self) -> float:
        return 0.0 if self._pace is None else float(self._pace(self))

    def report(self, request_type: str, name: str, value: float, failure: str | None = None) -> None:
        self.environment.events.request.fire(
            request_type=request_type, name=name, response_time=value, response_length=0, exception=failure, context={}
        )

    @contextmanager
    def call(self, name: str) -> Iterator[None]:
        """Time one operation as a `CALL` row; a client error is its failure, by class and status."""
        start = time.perf_counter()
        failure = None
        try:
            yield
        except APIError as exc:
            status = getattr(exc, "status_code", None)
            failure = type(exc).__name__ + (f" {status}" if status else "")
        self.report("CALL", name, (time.perf_counter() - start) * 1000, failure)


class PplxUser(_Reporting):
    """A user of the reference client; profiles subclass it and pick the operations as tasks."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.client = shared_client(environment, self.settings)

    def ask(self, **params: Any) -> None:
        with self.call("chat"):
            self.client.chat(model=self.settings.model, messages=QUESTION, **params)

    def stream(self, **params: Any) -> None:
        model = self.settings.model
        start = time.perf_counter()
        first = last = 0.0
        pieces = 0
        with self.call("stream"):
            stream = self.client.chat_stream(model=model, messages=QUESTION, **params)
            try:
                with stream:
                    for chunk in stream:
                        if not any(choice.delta.content for choice in chunk.choices):
                            continue
                        last = time.perf_counter()
                        if pieces == 0:
                            first = last
                            self.report("TTFT", model, (first - start) * 1000)
                        pieces += 1
            except APIError as exc:
                self.report("STREAM", "completed", (time.perf_counter() - start) * 1000, type(exc).__name__)
                raise
            self.report("STREAM", "completed", (time.perf_counter() - start) * 1000)
        if pieces > 1 and last > first:
            self.report("ITL_US", model, (last - first) * 1_000_000 / (pieces - 1))
            self.report("TPS", model, (pieces - 1) / (last - first))

    def search(self) -> None:
        with self.call("search"):
            self.client.search(query="capital of France", max_results=5)

    def job(self, timeout: float = 60.0) -> None:
        """Create a deep-research job, then poll it until it ends."""
        with self.call("job"):
            job = self.client.create_job(
                model="sonar-deep-research", messages=QUESTION, idempotency_key=uuid.uuid4().hex
            )
            done = self.client.wait_for_job(job.id, timeout=timeout, poll_interval=0.5, max_poll_interval=5.0)
            if done.status != "COMPLETED":
                self.report("JOB", "completed", 0.0, f"job {done.status}")


class RawHttpxUser(_Reporting):
    """Plain httpx, no limiter and no retries: the baseline the reference client is compared with."""

    abstract = True

    def on_start(self) -> None:
        headers = {"Authorization": f"Bearer {self.settings.api_key}", **self.settings.headers}
        self.http = httpx.Client(
            base_url=self.settings.base_url, headers=headers, transport=LocustTransport(self.environment), timeout=120
        )

    def on_stop(self) -> None:
        self.http.close()

    def ask(self) -> None:
        start = time.perf_counter()
        try:
            response = self.http.post("/chat/completions", json={"model": self.settings.model, "messages": QUESTION})
            failure = None if response.is_success else f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            failure = type(exc).__name__
        self.report("CALL", "chat", (time.perf_counter() - start) * 1000, failure)
