"""`pplx-mock serve --workers N`: the workers get the parent's settings, say what is per process, and stop together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server.settings import ModelTiming, Settings, SettingsError, load_settings
from mock_server.workers import SETTINGS_ENV_VAR, create_worker_app, decode_settings, encode_settings
from tests.conftest import AUTH, chat_body, free_port
from tests.test_cli import one_line_error, run_cli


def every_field_set() -> Settings:
    return Settings(
        host="0.0.0.0",
        port=9123,
        workers=3,
        fixtures=Path("some/fixtures"),
        keys_file=Path("/etc/keys.txt"),
        seed=42,
        time_scale=0.25,
        max_body_bytes=1024,
        log_level="debug",
        job_queue_seconds=1.5,
        job_research_seconds=7.0,
        rate_limits="rl-v1",
        default_tier=2,
        max_concurrent_requests=4,
        concurrency_queue=2,
        concurrency_status=503,
        stream_object="documented",
        search_seconds=0.1,
        search_multi_query="grouped",
        models={"sonar": ModelTiming(time_to_first_token=0.5), "sonar-pro": ModelTiming(tokens_per_second=12)},
        journal_size=10,
        admin_token="sekrit",
        retired=True,
        faults="429",
        chaos={"status=500": 0.1},
        fault_hang_seconds=3.0,
        strictness="spec",
        loop="asyncio",
        http="h11",
    )


def test_every_field_survives_the_trip_to_the_workers() -> None:
    settings = every_field_set()
    # A new setting must be added above, or this test would not show that it reaches the workers.
    unset = [
        name
        for name, field in Settings.model_fields.items()
        if getattr(settings, name) == field.get_default(call_default_factory=True)
    ]
    assert unset == []
    decoded = decode_settings(encode_settings(settings))
    assert decoded == settings
    assert decoded.admin_token is not None and decoded.admin_token.get_secret_value() == "sekrit"
    assert isinstance(decoded.fixtures, Path)


def test_defaults_and_nones_survive_the_trip() -> None:
    assert decode_settings(encode_settings(Settings())) == Settings()


def test_fewer_than_one_worker_is_a_one_line_error() -> None:
    line = one_line_error(run_cli("serve", "--workers", "0"))
    assert "command line: workers: Input should be greater than or equal to 1 (got 0)" in line
    with pytest.raises(SettingsError, match="environment: workers: Input should be greater than or equal to 1"):
        load_settings(environ={"MOCK_WORKERS": "-1"})


@pytest.mark.anyio
async def test_a_worker_refuses_the_control_plane_and_says_why_a_job_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SETTINGS_ENV_VAR, encode_settings(Settings(workers=2, time_scale=0)))
    # A worker freezes what it built before serving; this test process must not.
    frozen: list[bool] = []
    monkeypatch.setattr("mock_server.workers.freeze_start_up_objects", lambda: frozen.append(True))
    transport = httpx.ASGITransport(app=create_worker_app())
    assert frozen == [True]
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        refused = await client.post("/_mock/reset")
        assert refused.status_code == 501
        assert "2 worker processes" in refused.json()["error"]["message"]
        assert (await client.post("/chat/completions", json=chat_body())).status_code == 200
        missing = await client.get("/async/chat/completions/0a1b")
        assert missing.status_code == 404
        assert "the job may be on another one" in missing.json()["error"]["message"]


def test_the_worker_factory_needs_the_parent_s_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTINGS_ENV_VAR, raising=False)
    with pytest.raises(RuntimeError, match="--workers N"):
        create_worker_app()


def live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda process: process.send_signal(signal.SIGTERM), id="SIGTERM to the parent"),
        pytest.param(lambda process: os.killpg(process.pid, signal.SIGINT), id="Ctrl-C: SIGINT to the group"),
    ],
)
def test_two_workers_answer_and_stop_together(stop: Callable[[subprocess.Popen[str]], None]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--workers", "2", "--port", str(port), "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so the test can find every worker
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        # A connection each, so the kernel may hand them to either worker.
        for _ in range(6):
            answer = httpx.post(f"{base}/chat/completions", json=chat_body(), headers=AUTH, timeout=10)
            assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
        assert httpx.get(f"{base}/_mock/requests").status_code == 501
        workers = live_members(process.pid)
        assert len(workers) >= 3, "the parent and two workers"
        stop(process)
        _, stderr = process.communicate(timeout=15)
        deadline = time.monotonic() + 5
        while live_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live_members(process.pid) == [], "a worker outlived the parent"
    finally:
        if process.poll() is None or live_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    assert process.returncode == 0
    assert f"serving the Perplexity API on http://127.0.0.1:{port} (2 workers, " in stderr
    assert "pplx-mock: warning: 2 worker processes, each with its own rate-limit buckets" in stderr
    assert stderr.count("Application startup complete.") == 2
