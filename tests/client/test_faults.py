"""The client against the mock's fault injection (README "Faults"), over a real socket."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract.client import (
    APIConnectionError,
    APIStreamError,
    APITimeoutError,
    Client,
    IncompleteStreamError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from tests.conftest import LiveServer, make_app

KEY = "pplx-fault-test"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
_namespaces = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(make_app(rate_limits="off")) as live:
        yield live


@pytest.fixture
def namespace() -> str:
    return f"client-faults-{next(_namespaces)}"


def client_for(server: LiveServer, namespace: str, **options) -> Client:
    return Client(api_key=KEY, base_url=server.base_url, headers={"X-Mock-Namespace": namespace}, **options)


def calls(server: LiveServer, namespace: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.base_url}/_mock/requests", headers={"X-Mock-Namespace": namespace})
    answer.raise_for_status()
    return [entry for entry in answer.json()["requests"] if not entry["path"].startswith("/_mock")]


def scenario(server: LiveServer, namespace: str, steps: list[str | None]) -> None:
    httpx.post(
        f"{server.base_url}/_mock/scenarios", json={"key": KEY, "steps": steps}, headers={"X-Mock-Namespace": namespace}
    ).raise_for_status()


def test_503_then_success_is_retried_after_the_advised_wait(server: LiveServer, namespace: str) -> None:
    scenario(server, namespace, ["status=503;retry-after-ms=50"])
    with client_for(server, namespace) as client:
        assert client.chat(model="sonar", messages=MESSAGES).choices
    assert [entry["status"] for entry in calls(server, namespace)] == [503, 200]


def test_a_429_storm_exhausts_the_retries_then_raises(server: LiveServer, namespace: str) -> None:
    scenario(server, namespace, ["status=429;retry-after-ms=20"] * 5)
    with client_for(server, namespace, retry=RetryPolicy(max_retries=3)) as client, pytest.raises(RateLimitError):
        client.search(query="Paris")
    assert [entry["status"] for entry in calls(server, namespace)] == [429] * 4


def test_a_500_on_a_post_is_not_resent(server: LiveServer, namespace: str) -> None:
    with client_for(server, namespace) as client, pytest.raises(InternalServerError):
        client.chat(model="sonar", messages=MESSAGES, extra_headers={"X-Mock-Fault": "status=500"})
    assert len(calls(server, namespace)) == 1


def test_a_reset_is_resent_for_a_get_but_not_for_a_post(server: LiveServer, namespace: str) -> None:
    with client_for(server, namespace) as client:
        with pytest.raises(APIConnectionError):
            client.chat(model="sonar", messages=MESSAGES, extra_headers={"X-Mock-Fault": "reset"})
        assert len(calls(server, namespace)) == 1
        with pytest.raises(APIConnectionError):
            client.list_jobs(extra_headers={"X-Mock-Fault": "reset"})
        assert len(calls(server, namespace)) == 1 + 3


def test_a_hang_becomes_a_timeout(server: LiveServer, namespace: str) -> None:
    options = {"timeout": httpx.Timeout(0.3, connect=2), "retry": RetryPolicy(max_retries=0)}
    with client_for(server, namespace, **options) as client, pytest.raises(APITimeoutError):
        client.search(query="Paris", extra_headers={"X-Mock-Fault": "hang"})


@pytest.mark.parametrize(
    ("fault", "error", "chunks"),
    [("stream-cut=4", IncompleteStreamError, 4), ("stream-no-done", IncompleteStreamError, None)],
)
def test_a_broken_stream_raises_and_is_not_retried(
    server: LiveServer, namespace: str, fault: str, error: type, chunks: int | None
) -> None:
    with client_for(server, namespace) as client:
        stream = client.chat_stream(model="sonar", messages=MESSAGES, extra_headers={"X-Mock-Fault": fault})
        with pytest.raises(error), stream:
            stream.until_done()
    if chunks is not None:
        assert stream.answer.chunks == chunks
    assert stream.answer.chunks > 0 and len(calls(server, namespace)) == 1


def test_an_error_event_mid_stream_raises_with_its_envelope(server: LiveServer, namespace: str) -> None:
    with client_for(server, namespace) as client:
        stream = client.chat_stream(model="sonar", messages=MESSAGES, extra_headers={"X-Mock-Fault": "stream-error=3"})
        with pytest.raises(APIStreamError) as caught, stream:
            stream.until_done()
    assert stream.answer.chunks == 3
    assert caught.value.error is not None and caught.value.error.error.code == 500
