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
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from load.__main__ import main
from load.runner import PROFILES, seconds
from load.settings import LoadSettings
from load.summary import Row, Summary, read_summary
from tests.conftest import LiveServer, make_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    # A small time scale: chats take a few ms, so a burst crosses tier 0 (50 a minute) at once. A long
    # journal, so a run's every request can be counted there.
    with LiveServer(make_app(time_scale=0.01, journal_size=100_000)) as server:
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
    # The summary's figures are Locust's final ones, not those of its last once-a-second CSV write.
    assert counts(read_summary(out)) == final_report(Path(f"{out}_locust.log")), output
    return output


def counts(summary: Summary) -> dict[tuple[str, str], tuple[int, int]]:
    return {(row.type, row.name): (row.count, row.failures) for row in summary.rows}


def final_report(log: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """The rows of the report Locust prints as it shuts down: (type, name) -> (requests, failures)."""
    text = log.read_text(encoding="utf-8")
    table = text[text.rindex("Shutting down") :]
    table = table[: table.index("Aggregated")]
    rows = re.findall(r"^(\S+) +(\S+) +(\d+) +(\d+)\(", table, re.MULTILINE)
    assert rows, text
    return {(kind, name): (int(requests), int(failures)) for kind, name, requests, failures in rows}


def journal(mock: LiveServer, namespace: str) -> list[dict[str, object]]:
    response = httpx.get(f"{mock.base_url}/_mock/requests", headers={"X-Mock-Namespace": namespace})
    response.raise_for_status()
    requests: list[dict[str, object]] = response.json()["requests"]
    return requests


def test_the_summary_counts_every_request_and_rates_them_over_the_run_time(mock: LiveServer, tmp_path: Path) -> None:
    # Back to back and unpaced: requests keep coming up to the end, after Locust's last CSV write.
    out = tmp_path / "raw"
    output = finish(start(mock, out, "raw", "--users", "2", "--run-time", "2s"), out)
    summary = read_summary(out)
    sent = len(journal(mock, out.name))
    assert summary.http_requests == sent > 0, output
    assert [row.count for row in summary.of_type("CALL")] == [sent], output  # one request a call
    # Over the 2 s asked for, not Locust's first-to-last request time.
    assert f"HTTP: {sent} requests, {sent / 2:.1f} requests/s over the 2 s run time," in output, output


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
    # The mock sends sonar's 90 tokens a second 100 times faster: a gap of about 110 µs, which in
    # whole milliseconds would read 0.
    itl = summary.of_type("ITL_US")[0]
    assert 50 <= itl.p50 < 1000, output
    assert f"inter-token latency sonar: p50 {itl.p50:g} µs" in output
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
    for (tier, limiter), row in rows.items():
        assert row["concurrency"] == "1" and row["users"] == "1" and int(row["requests"]) > 0, row
        # The step's figures are Locust's final ones; the rate is over the step's 3 s.
        final = final_report(out.parent / "sweep_steps" / f"tier{tier}-c1-limiter-{limiter}_locust.log")
        assert int(row["requests"]) == final["POST", "/chat/completions"][0], (row, final)
        assert float(row["rpm"]) == round(int(row["requests"]) / 3 * 60, 1), row
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
    # Locust refuses a fraction, and reads 0 as no limit at all.
    for bad in ("soon", "1.5", "0", "0s", ""):
        with pytest.raises(ValueError):
            seconds(bad)


def test_the_summary_states_its_rates_and_inter_token_latency_in_microseconds() -> None:
    rows = [
        Row("POST", "/chat/completions", 50, 0, 180, 190, 200),
        Row("ITL_US", "sonar", 9, 0, 560, 1500, 1500),
    ]
    text = Summary(rows, Counter()).render(5)
    assert "HTTP: 50 requests, 10.0 requests/s over the 5 s run time, 0 failed (0.0%)" in text
    assert "POST /chat/completions: 50 (10.0 requests/s)" in text
    assert "inter-token latency sonar: p50 560 µs, p95 1.5 ms" in text


@pytest.mark.parametrize(
    ("argv", "env", "error"),
    [
        (["run", "steady", "-t", "abc"], {}, "--run-time: not a run time: 'abc' (use 20s, 1m30s, 2h)"),
        (["run", "steady", "-t", "1s", "-u", "0"], {}, "--users: at least 1, got 0"),
        (["run", "steady", "-t", "1s"], {"PPLX_LOAD_TIER": "abc"},
         "PPLX_LOAD_TIER must be an integer from 0 to 5, got 'abc'"),
        (["run", "steady", "-t", "1s"], {"PPLX_LOAD_TIER": "9"},
         "PPLX_LOAD_TIER must be an integer from 0 to 5, got '9'"),
        (["sweep", "--tiers", "0", "--concurrency", "1", "--limiter", "on", "--step", "1s"],
         {"PPLX_LOAD_RETRIES": "-1"}, "PPLX_LOAD_RETRIES must be an integer of at least 0, got '-1'"),
    ],
)  # fmt: skip
def test_bad_settings_end_the_command_before_locust_starts(
    argv: list[str],
    env: dict[str, str],
    error: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Nothing listens there: were Locust started anyway, its users would fail at once.
    monkeypatch.setenv("PERPLEXITY_BASE_URL", "http://127.0.0.1:9")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--out", str(tmp_path / "out")])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"python -m load: error: {error}"
    assert list(tmp_path.iterdir()) == []  # no Locust log or report: Locust never started


def test_settings_refuse_values_a_run_cannot_use() -> None:
    assert LoadSettings.from_env(environ={"PPLX_LOAD_TIER": "", "PPLX_LOAD_RPS": " 0 "}, tier=0).rps == 0
    for name, value in [("PPLX_LOAD_TIER", "-1"), ("PPLX_LOAD_HEADROOM", "1"), ("PPLX_LOAD_HEADROOM", "nan"),
                        ("PPLX_LOAD_CONCURRENCY", "0"), ("PPLX_LOAD_RPS", "-2"), ("PPLX_LOAD_RETRIES", "two"),
                        ("PPLX_LOAD_LIMITER", "maybe"), ("PERPLEXITY_BASE_URL", "localhost:8000")]:  # fmt: skip
        with pytest.raises(ValueError, match=name):
            LoadSettings.from_env(environ={name: value})
