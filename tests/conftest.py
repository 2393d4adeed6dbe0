"""Shared test fixtures: the app in-process, a real server on a free loopback port, a clean env."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from mock_server import create_app
from mock_server.clock import Clock
from mock_server.settings import Settings

TEST_KEY = "pplx-test-key"
# The cost lines of the real sonar-pro answer in the SDK performance guide (2026-05-21): 27 tokens
# in, 587 out, low context. Every path that bills that answer must reproduce them exactly.
SEED2_COST = {
    "input_tokens_cost": 8e-05,
    "output_tokens_cost": 0.00881,
    "total_cost": 0.01489,
    "citation_tokens_cost": None,
    "reasoning_tokens_cost": None,
    "request_cost": 0.006,
    "search_queries_cost": None,
}
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def make_app(clock: Clock | None = None, **settings: Any) -> Starlette:
    """The mock with no simulated delays unless a test asks for them."""
    return create_app(Settings(**{"time_scale": 0, **settings}), clock=clock)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own settings or real key must never leak into the suite.
    for name in list(os.environ):
        if name.startswith(("MOCK_", "PERPLEXITY_", "OPENAI_", "PPLX_MOCK_")):
            monkeypatch.delenv(name)


@pytest.fixture
def app() -> Starlette:
    return make_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        yield client


class LiveServer:
    """A uvicorn server in a thread, on a free loopback port, stopped when the block ends."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the mock did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real-socket mock (time scale 0) shared by the session."""
    with LiveServer(make_app()) as server:
        yield server


def chat_body(model: str = "sonar", question: str = "What is the capital of France?", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": question}], **extra}


def sse_data(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, asserting the framing the API uses."""
    assert text.endswith("\n\n"), "every event ends with a blank line"
    events = text.split("\n\n")[:-1]
    payloads = []
    for event in events:
        assert event.startswith("data: ") and "\n" not in event, f"unexpected event framing: {event[:80]!r}"
        payloads.append(event.removeprefix("data: "))
    return payloads
