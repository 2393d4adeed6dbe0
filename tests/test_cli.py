"""`pplx-mock serve` as a user runs it: one-line errors, and a server that answers and stops."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH, chat_body, free_port


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pplx-mock: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--port", "eighty"], "argument --port: invalid int value: 'eighty'"),
        (["serve", "--colour", "red"], "unrecognized arguments: --colour red"),
        (["serve", "--time-scale", "-1"], "command line: time_scale: Input should be greater than or equal to 0"),
        # Accepted before, and then every request hung beyond the reach of SIGTERM.
        (["serve", "--time-scale", "inf"], "command line: time_scale: Input should be a finite number (got inf)"),
        (["launch"], "invalid choice: 'launch'"),
    ],
)
def test_bad_flags(args: list[str], fragment: str) -> None:
    assert fragment in one_line_error(run_cli(*args))


def test_bad_config_file(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text("seed = 'many'\n", encoding="utf-8")
    line = one_line_error(run_cli("serve", "--config", str(path)))
    assert f"config file {path}: seed: Input should be a valid integer" in line


def test_bad_fixture_file(tmp_path: Path) -> None:
    (tmp_path / "chat").mkdir()
    broken = tmp_path / "chat" / "broken.yaml"
    broken.write_text("endpoint: chat.completions\nresponse:\n  status: 200\n  body: {id: 1}\n", encoding="utf-8")
    line = one_line_error(run_cli("serve", "--fixtures", str(tmp_path)))
    assert f"{broken}: response.body.id: Input should be a valid string" in line


def test_bad_keys_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("pplx-good 2\npplx-bad tier-nine\n", encoding="utf-8")
    assert f"keys file {keys} line 2" in one_line_error(run_cli("serve", "--keys-file", str(keys)))


@pytest.mark.parametrize(
    ("flag", "what"), [("--config", "config file"), ("--keys-file", "keys file"), ("--rate-limits", "rate limits file")]
)
def test_files_that_are_not_utf8(tmp_path: Path, flag: str, what: str) -> None:
    # These exited with a UnicodeDecodeError traceback.
    path = tmp_path / "latin-1.txt"
    path.write_bytes(b"# caf\xe9\n")
    line = one_line_error(run_cli("serve", flag, str(path)))
    assert line == f"pplx-mock: error: {what} {path}: not valid UTF-8 (invalid continuation byte at byte 5)"


def test_serve_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    keys = tmp_path / "keys.txt"
    keys.write_text("# team keys\npplx-test-key\n", encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "serve",
            "--port",
            str(port),
            "--time-scale",
            "0",
            "--keys-file",
            str(keys),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        answer = httpx.post(f"{base}/chat/completions", json=chat_body(), headers=AUTH, timeout=10)
        assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
        other = httpx.post(f"{base}/chat/completions", json=chat_body(), headers={"Authorization": "Bearer pplx-x"})
        assert other.status_code == 401
        assert json.loads(httpx.get(f"{base}/openapi.json").text)["openapi"] == "3.1.0"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert f"serving the Perplexity API on http://127.0.0.1:{port}" in stderr
