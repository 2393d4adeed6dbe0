"""Handles on a mock for tests: `PerplexityMock` (a real server on a loopback port) and
`AsgiPerplexityMock` (in-process, through httpx's ASGITransport). The pytest plugin hands them out.

Both drive the mock through its control plane (`/_mock/…`), in the handle's namespace, so a test
uses the same interface a client in another process would.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import uvicorn
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.settings import Settings

NAMESPACE_HEADER = "X-Mock-Namespace"
# Keys whose name gives their tier (`-tier{N}-`), so a test needs no keys file or runtime tier.
TIER_KEYS = tuple(f"pplx-pytest-tier{tier}-key" for tier in range(6))
DEFAULT_KEY = "pplx-pytest-key"
START_TIMEOUT = 10.0


class MockHandle(abc.ABC):
    """What a test sees of a mock: its URL, ready keys, the journal and the control plane."""

    def __init__(self, base_url: str, namespace: str = "") -> None:
        self.base_url = base_url
        self.namespace = namespace
        # Without a tier in its name this key has the mock's default tier (5 unless set).
        self.api_key = DEFAULT_KEY
        self.keys = TIER_KEYS

    def key(self, tier: int = 5) -> str:
        """A key of usage tier `tier` (0–5), by its name."""
        if tier not in range(6):
            raise ValueError(f"tier must be 0-5, got {tier!r}")
        return self.keys[tier]

    @property
    def headers(self) -> dict[str, str]:
        """Headers a client should send: the key, and the namespace when it is not the default."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.namespace:
            headers[NAMESPACE_HEADER] = self.namespace
        return headers

    def requests(
        self, path: str | None = None, model: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        """The journal of this namespace, oldest first, filtered like `GET /_mock/requests`."""
        params = {name: v for name, v in (("path", path), ("model", model), ("status", status)) if v is not None}
        entries: list[dict[str, Any]] = self._control("GET", "/_mock/requests", params=params)["requests"]
        return entries

    def set_fault(
        self, spec: str | None = None, *, chaos: Mapping[str, float] | None = None, seed: int | None = None
    ) -> dict[str, Any]:
        """Replace the namespace's default fault (`"status=503"`, None: none) and chaos rates."""
        body = {"default": spec, "chaos": dict(chaos) if chaos else None, "seed": seed}
        result: dict[str, Any] = self._control("POST", "/_mock/faults", json=body)
        return result

    def set_scenario(self, key: str, steps: Sequence[str | None] | Mapping[int | str, str]) -> dict[str, Any]:
        """Script `key`'s next calls: a list (entry n for call n, None passes) or {call number: fault}."""
        wire: Any = list(steps) if isinstance(steps, Sequence) else {str(n): spec for n, spec in steps.items()}
        result: dict[str, Any] = self._control("POST", "/_mock/scenarios", json={"key": key, "steps": wire})
        return result

    def set_tier(self, key: str, tier: int | None) -> dict[str, Any]:
        """Give `key` a usage tier at runtime in this namespace (None drops it)."""
        result: dict[str, Any] = self._control("POST", "/_mock/tiers", json={"key": key, "tier": tier})
        return result

    def advance(self, seconds: float) -> float:
        """Move the mock's clock forward (every namespace shares it); returns the new time."""
        now: float = self._control("POST", "/_mock/clock/advance", json={"seconds": seconds})["now"]
        return now

    def reset(self) -> None:
        """Forget this namespace: journal, buckets, runtime tiers, jobs, faults and scenarios."""
        self._control("POST", "/_mock/reset")

    def assert_backed_off(self, path: str | None = None, *, min_retries: int = 1) -> list[dict[str, Any]]:
        """Check that every retry of a 429 came at least as late as the 429 advised.

        Returns the retries. Fails when fewer than `min_retries` requests retried a 429, or when
        any of them came back early (the journal's `waited_as_told` is false).
        """
        retries = [entry for entry in self.requests(path=path) if entry["waited_as_told"] is not None]
        if len(retries) < min_retries:
            raise AssertionError(f"expected at least {min_retries} retry of a 429, the journal shows {len(retries)}")
        early = [entry for entry in retries if not entry["waited_as_told"]]
        if early:
            lines = [
                f"  #{e['seq']} {e['method']} {e['path']}: waited {e['waited_ms']:.0f} ms, "
                f"told {e['advised_wait_ms']} ms"
                for e in early
            ]
            raise AssertionError("the client retried a 429 too early:\n" + "\n".join(lines))
        return retries

    @abc.abstractmethod
    def _control(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Call the mock's control plane: over the socket, or in-process."""

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(f"pplx-mock {response.request.url.path}: {response.status_code} {response.text}")
        return response.json()

    def close(self) -> None:  # noqa: B027 - optional hook: only the socket variant holds a connection pool
        """Release what the handle holds."""


class PerplexityMock(MockHandle):
    """A mock served on a real loopback socket: any client, sync or async, in any process."""

    def __init__(self, base_url: str, namespace: str = "") -> None:
        super().__init__(base_url, namespace)
        headers = {NAMESPACE_HEADER: namespace} if namespace else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def _control(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self._answer(self._http.request(method, path, json=json, params=params))

    def close(self) -> None:
        self._http.close()


class AsgiPerplexityMock(MockHandle):
    """The mock in-process: no socket, for async httpx clients only (`async_client()`, `transport`).

    Limits: bodies are buffered, so streams arrive whole (no pacing to observe) and connection
    faults (`reset`, `hang`, `stream-cut`) do not behave as on a socket. The helpers work from sync
    and async tests alike: each control call runs on its own event loop in a worker thread.
    """

    def __init__(self, app: Starlette, namespace: str = "", base_url: str = "http://pplx-mock.test") -> None:
        super().__init__(base_url, namespace)
        self.app = app

    @property
    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An `httpx.AsyncClient` on the app, with the base URL and `headers` (key, namespace) set."""
        kwargs.setdefault("base_url", self.base_url)
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        return httpx.AsyncClient(transport=self.transport, **kwargs)

    def _control(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        headers = {NAMESPACE_HEADER: self.namespace} if self.namespace else {}

        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url, headers=headers) as client:
                return await client.request(method, path, json=json, params=params)

        with ThreadPoolExecutor(max_workers=1) as pool:
            return self._answer(pool.submit(anyio.run, call).result())


class ServerThread:
    """`create_app(settings)` served by uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="pplx-mock")
        self.base_url = ""

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("pplx-mock: the server did not start")
            time.sleep(0.005)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT)
