"""Streaming over a real socket: pacing by the model's timing and the time scale, and disconnects."""

from __future__ import annotations

import time

import httpx
import pytest

from mock_server.settings import ModelTiming
from tests.conftest import AUTH, LiveServer, chat_body, make_app


def test_time_to_first_token_and_pacing_follow_the_settings() -> None:
    # 0.3 s to the first token, then 100 tokens/s, at time scale 1: measurable but quick.
    app = make_app(time_scale=1, models={"sonar": ModelTiming(time_to_first_token=0.3, tokens_per_second=100)})
    with LiveServer(app) as server:
        body = {**chat_body(max_tokens=40), "stream": True}
        started = time.monotonic()
        arrivals = []
        with httpx.stream(
            "POST", f"{server.base_url}/chat/completions", json=body, headers=AUTH, timeout=10
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic() - started)
    assert 0.25 <= arrivals[0] <= 1.0
    # 40 tokens at 100/s: the last arrives about 0.39 s after the first.
    assert 0.3 <= arrivals[-1] - arrivals[0] <= 1.2
    assert len(arrivals) == 42  # 40 tokens, the final chunk, [DONE]


def test_time_scale_zero_removes_delays() -> None:
    app = make_app(time_scale=0, models={"sonar": ModelTiming(time_to_first_token=30)})
    with LiveServer(app) as server:
        started = time.monotonic()
        response = httpx.post(f"{server.base_url}/chat/completions", json=chat_body(), headers=AUTH, timeout=10)
        assert response.status_code == 200
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("stream_mode", ["full", "concise"])
def test_disconnect_mid_stream_stops_the_sender(stream_mode: str) -> None:
    app = make_app(time_scale=1, models={"sonar": ModelTiming(time_to_first_token=0, tokens_per_second=20)})
    state = app.state.mock
    with LiveServer(app) as server:
        body = {**chat_body(), "stream": True, "stream_mode": stream_mode}
        with httpx.stream(
            "POST", f"{server.base_url}/chat/completions", json=body, headers=AUTH, timeout=10
        ) as response:
            lines = response.iter_lines()
            received = [next(lines) for _ in range(3)]
            assert received[0].startswith("data: ")
            assert state.open_streams == 1
        # The client has gone; the generator must stop long before the ~10 s the answer would take.
        deadline = time.monotonic() + 2
        while state.open_streams and time.monotonic() < deadline:
            time.sleep(0.01)
        assert state.open_streams == 0


def test_non_streamed_answer_waits_for_the_whole_generation() -> None:
    app = make_app(time_scale=1, models={"sonar": ModelTiming(time_to_first_token=0.2, tokens_per_second=200)})
    with LiveServer(app) as server:
        started = time.monotonic()
        response = httpx.post(f"{server.base_url}/chat/completions", json=chat_body(max_tokens=40), headers=AUTH)
        elapsed = time.monotonic() - started
    assert response.json()["usage"]["completion_tokens"] == 40
    assert 0.35 <= elapsed <= 1.5  # 0.2 s + 40 / 200 s
