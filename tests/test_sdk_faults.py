"""Every fault kind as the official SDK meets it over a real socket (small timeouts, no retries)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import perplexity
import pytest
from perplexity import Perplexity

from mock_server.fault_responses import EDGE_502_HTML
from tests.conftest import AUTH, TEST_KEY, LiveServer, chat_body, make_app

QUESTION = chat_body()["messages"]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(make_app(fault_hang_seconds=5)) as server:
        yield server


def client(server: LiveServer, fault: str | None = None, timeout: float = 5) -> Perplexity:
    headers = {"X-Mock-Fault": fault} if fault is not None else {}
    return Perplexity(
        api_key=TEST_KEY, base_url=server.base_url, max_retries=0, timeout=timeout, default_headers=headers
    )


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("status=400", perplexity.BadRequestError, 400),
        ("status=401", perplexity.AuthenticationError, 401),
        ("403", perplexity.PermissionDeniedError, 403),
        ("status=404", perplexity.NotFoundError, 404),
        ("status=429;retry-after-ms=200", perplexity.RateLimitError, 429),
        ("status=500", perplexity.InternalServerError, 500),
        ("status=503", perplexity.InternalServerError, 503),
        ("status=504", perplexity.InternalServerError, 504),
    ],
)
def test_status_faults_raise_the_sdk_error_of_the_status(
    server: LiveServer, fault: str, error: type[perplexity.APIStatusError], status: int
) -> None:
    with pytest.raises(error) as caught:
        call(client(server, fault), model="sonar", messages=QUESTION)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["code"] == status


def test_429_advises_the_wait_the_sdk_uses(server: LiveServer) -> None:
    with pytest.raises(perplexity.RateLimitError) as caught:
        call(client(server, "status=429;retry-after-ms=200"), model="sonar", messages=QUESTION)
    headers = caught.value.response.headers
    assert (headers["retry-after-ms"], headers["retry-after"]) == ("200", "1")
    assert caught.value.body == {
        "error": {"message": "Too Many Requests.", "type": "request_rate_limit_exceeded", "code": 429}
    }


def test_500_is_the_observed_body(server: LiveServer) -> None:
    with pytest.raises(perplexity.InternalServerError) as caught:
        call(client(server, "500"), model="sonar", messages=QUESTION)
    assert caught.value.body == {
        "error": {"message": "An internal server error has occurred.", "type": "internal_server_error", "code": 500}
    }


def test_502_is_the_edge_html_page(server: LiveServer) -> None:
    with pytest.raises(perplexity.InternalServerError) as caught:
        call(client(server, "502"), model="sonar", messages=QUESTION)
    assert caught.value.status_code == 502
    assert caught.value.body == EDGE_502_HTML  # the SDK keeps a non-JSON body as text
    assert caught.value.response.headers["content-type"].startswith("text/html")


def test_hang_ends_in_the_clients_timeout(server: LiveServer) -> None:
    started = time.monotonic()
    with pytest.raises(perplexity.APITimeoutError):
        call(client(server, "hang", timeout=0.3), model="sonar", messages=QUESTION)
    assert time.monotonic() - started < 2


def test_reset_is_a_connection_error_not_a_500(server: LiveServer) -> None:
    with pytest.raises(perplexity.APIConnectionError) as caught:
        call(client(server, "reset"), model="sonar", messages=QUESTION)
    assert not isinstance(caught.value, perplexity.APITimeoutError)
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.base_url}/search", json={"query": "x"}, headers={**AUTH, "X-Mock-Fault": "reset"})


def test_latency_delays_the_answer(server: LiveServer) -> None:
    started = time.monotonic()
    call(client(server, "latency=0.3"), model="sonar", messages=QUESTION)
    assert 0.3 <= time.monotonic() - started < 2


def test_slow_first_byte_trips_a_short_timeout(server: LiveServer) -> None:
    with pytest.raises(perplexity.APITimeoutError):
        call(client(server, "first-byte=1", timeout=0.3), model="sonar", messages=QUESTION)


def call(sdk: Perplexity, **request: Any) -> Any:
    with sdk:
        return sdk.chat.completions.create(**request)


def _stream(server: LiveServer, fault: str) -> tuple[list[str], BaseException | None]:
    contents: list[str] = []
    try:
        with client(server, fault) as sdk:
            for chunk in sdk.chat.completions.create(model="sonar", messages=QUESTION, stream=True):
                contents.append(str(chunk.choices[0].delta.content or ""))
    except Exception as exc:  # which one is what the tests look at
        return contents, exc
    return contents, None


def test_stream_cut_gives_some_chunks_then_a_protocol_error(server: LiveServer) -> None:
    contents, error = _stream(server, "stream-cut=4")
    assert len(contents) == 4
    assert isinstance(error, httpx.RemoteProtocolError)


def test_stream_error_event_raises_after_the_chunks(server: LiveServer) -> None:
    contents, error = _stream(server, "stream-error=5")
    assert len(contents) == 5
    assert isinstance(error, perplexity.APIStatusError) and error.status_code == 200
    assert error.body == {
        "error": {"message": "An internal server error has occurred.", "type": "internal_server_error", "code": 500}
    }


def test_stream_malformed_chunk_fails_to_parse(server: LiveServer) -> None:
    contents, error = _stream(server, "stream-malformed=3")
    assert len(contents) == 2
    assert isinstance(error, ValueError)  # json.JSONDecodeError


def test_stream_without_done_ends_quietly(server: LiveServer) -> None:
    full, _ = _stream(server, "none")
    contents, error = _stream(server, "stream-no-done")
    assert error is None and contents == full


def test_a_bad_fault_header_is_a_400(server: LiveServer) -> None:
    with pytest.raises(perplexity.BadRequestError) as caught:
        call(client(server, "staus=503"), model="sonar", messages=QUESTION)
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "invalid_mock_fault"
    assert "unknown fault `staus`" in caught.value.body["error"]["message"]


def test_paced_stream_disconnects_after_the_time() -> None:
    from mock_server.settings import ModelTiming

    app = make_app(time_scale=1, models={"sonar": ModelTiming(time_to_first_token=0, tokens_per_second=20)})
    with LiveServer(app) as live:
        started = time.monotonic()
        contents, error = _stream(live, "stream-disconnect=0.3")
        elapsed = time.monotonic() - started
    assert isinstance(error, httpx.RemoteProtocolError)
    assert 3 <= len(contents) <= 9  # about 0.3 s of 20 chunks a second
    assert elapsed < 2
    assert app.state.mock.open_streams == 0


def test_retired_mode_answers_chat_with_the_observed_403() -> None:
    with LiveServer(make_app(retired=True)) as live:
        with pytest.raises(perplexity.PermissionDeniedError) as caught:
            call(client(live), model="sonar", messages=QUESTION)
        assert caught.value.body == {
            "error": {
                "message": "Sonar is now the Agent API. Use /v1/responses instead of /v1/sonar.",
                "type": "chat_completions_not_available",
                "code": 403,
            }
        }
        with (
            Perplexity(api_key="not-a-key", base_url=live.base_url, max_retries=0) as bad_key,
            pytest.raises(perplexity.AuthenticationError),
        ):
            bad_key.chat.completions.create(model="sonar", messages=QUESTION)
