"""The load profiles, run headless by `python -m load` in subprocesses against a mock on loopback.

Locust is never imported here (it patches the standard library with gevent); each run is bounded
to a few seconds and a few users.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from load.runner import PROFILES, seconds
from load.summary import read_summary
from tests.conftest import LiveServer, make_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    # A small time scale: chats take a few ms, so a burst crosses tier 0 (50 a minute) at once.
    with LiveServer(make_app(time_scale=0.01)) as server:
        yield server


def start(mock: LiveServer, out: Path, profile: str, *args: str, **env: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "PERPLEXITY_BASE_URL": mock.base_url,
        "PPLX_LOAD_NAMESPACE": out.name,  # each run gets full buckets of its own
        **env,
    }
    command = [sys.executable, "-m", "load", "run", profile, "--out", str(out), *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(proc: subprocess.Popen[str], out: Path) -> str:
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output
    for suffix in ("_stats.csv", "_failures.csv", ".html"):
        assert Path(f"{out}{suffix}").stat().st_size > 0, suffix
    assert "requests/s" in output and "p95" in output and "429 share:" in output, output
    return output


def test_burst_crosses_the_tier_limit_without_the_limiter_and_not_with_it(mock: LiveServer, tmp_path: Path) -> None:
    common = ("--users", "6", "--run-time", "4s")
    off = start(mock, tmp_path / "off", "burst", *common, PPLX_LOAD_LIMITER="off", PPLX_LOAD_RETRIES="0")
    # The limiter counts from its own first send; the mock from the first arrival, a connection later.
    on = start(mock, tmp_path / "on", "burst", *common, PPLX_LOAD_LIMITER="on", PPLX_LOAD_HEADROOM="0.05")
    off_output, on_output = finish(off, tmp_path / "off"), finish(on, tmp_path / "on")

    unpaced, paced = read_summary(tmp_path / "off"), read_summary(tmp_path / "on")
    assert unpaced.http_429 > 0 and unpaced.share_429 > 0.5, off_output
    assert "HTTP 429" in off_output and "RateLimitError 429" in off_output
    assert paced.http_429 == 0, on_output
    assert "429 share: 0.0%" in on_output
    # The paced run stays near the tier's burst of 50 plus one refill every 1.2 s.
    assert 50 <= paced.http_requests <= 60, on_output


def test_streaming_reports_time_to_first_token_and_tokens_per_second(mock: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "streaming"
    output = finish(start(mock, out, "streaming", "--users", "3", "--run-time", "3s", PPLX_LOAD_RPS="4"), out)
    summary = read_summary(out)
    assert summary.of_type("TTFT") and summary.of_type("TPS"), output
    assert "TTFT sonar: p50" in output and "tokens/s sonar: p50" in output
    streams = summary.of_type("STREAM")[0]
    assert streams.count > 0 and streams.failures == 0, output
    assert "stream completion: " in output and "(100.0%)" in output


def test_distributed_mode_runs_a_master_and_two_workers(mock: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    proc = start(mock, out, "application", "--users", "4", "--run-time", "3s", "--workers", "2", PPLX_LOAD_RPS="4")
    output = finish(proc, out)
    assert "2 workers" in output
    for index in (0, 1):
        log = Path(f"{out}_worker{index}.log").read_text(encoding="utf-8")
        assert "HTTP Request: POST" in log, f"worker {index} sent nothing"
    summary = read_summary(out)
    assert {row.name for row in summary.http} >= {"/chat/completions", "/search"}, output
    assert summary.http_requests > 10


def test_sweep_writes_a_csv_and_a_plot_and_names_the_cheapest_settings(tmp_path: Path) -> None:
    # The RL-V3 rates the client paces for, with a bucket of 2: a 3 s step on one user crosses it.
    limits = tmp_path / "limits.toml"
    limits.write_text(
        'extends = "rl-v3"\n[limits.sonar]\nrequests = [50, 150, 500, 1000, 4000, 4000]\nburst = 2\n', encoding="utf-8"
    )
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "load", "sweep", "--tiers", "0,2", "--concurrency", "1",
               "--limiter", "on,off", "--step", "3s", "--users", "1", "--profile", "burst",
               "--target-rpm", "200", "--out", str(out)]  # fmt: skip
    with LiveServer(make_app(rate_limits=str(limits))) as server:
        env = {**os.environ, "PERPLEXITY_BASE_URL": server.base_url, "PPLX_LOAD_HEADROOM": "0.05"}
        # Four steps of 3 s plus Locust's start-up each: about 17 s.
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output

    with Path(f"{out}.csv").open(newline="", encoding="utf-8") as handle:
        rows = {(row["tier"], row["limiter"]): row for row in csv.DictReader(handle)}
    assert sorted(rows) == [("0", "off"), ("0", "on"), ("2", "off"), ("2", "on")], output
    for (_, limiter), row in rows.items():
        assert row["concurrency"] == "1" and row["users"] == "1" and int(row["requests"]) > 0, row
        assert float(row["p95_ms"]) > 0 and float(row["rpm"]) > 0, row
        if limiter == "off":
            assert int(row["http_429"]) > 0 and float(row["share_429"]) > 0, row
        else:
            assert int(row["http_429"]) == 0 and float(row["ok_rpm"]) == float(row["rpm"]), row
    # Tier 0 refills 50 a minute: well under the target; tier 2 (500 a minute) well over it.
    assert float(rows["0", "on"]["ok_rpm"]) < 200 < float(rows["2", "on"]["ok_rpm"]), output
    assert Path(f"{out}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "reach 200 req/min without 429s: tier 2 with concurrency 1, limiter on" in output
    assert "429 %" in output and "req/min" in output, output


def test_every_profile_and_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in PROFILES:
        assert (ROOT / "load" / "profiles" / f"{name}.py").is_file()
        assert f"| `{name}` |" in readme, f"README.md does not list the profile {name}"
    settings = (ROOT / "load" / "settings.py").read_text(encoding="utf-8")
    for var in set(re.findall(r"PPLX_LOAD_[A-Z]+", settings)):
        assert f"`{var}`" in readme, f"README.md does not document {var}"


def test_run_times_parse() -> None:
    assert seconds("20s") == 20 and seconds("1m30s") == 90 and seconds("2h") == 7200 and seconds("5") == 5
    with pytest.raises(ValueError):
        seconds("soon")
