"""The benchmark is fair: `bench/bare_app.py` answers its requests with what the mock answers.

Only smoke tests: the speed targets are measured by `bench/run.py` and `bench/streams.py`, which
print the figures side by side, never by timed tests. The rest checks the parts of `bench/run.py`
that need no server: the aged mock's keys and the script that sends them (in `bench/wrk.py`), and
(in `bench/report.py`) the tables and results file built from made-up figures.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.auth import KeyStore
from mock_server.journal import mask_key
from mock_server.tiers import Tiers
from tests.conftest import make_app

BENCH = Path(__file__).resolve().parent.parent / "bench"
BARE_APP = BENCH / "bare_app.py"


@pytest.fixture(scope="module")
def bare_app() -> ModuleType:
    # bench/ is a directory of scripts, not a package.
    spec = importlib.util.spec_from_file_location("bench_bare_app", BARE_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def answer(app: Starlette, request: dict[str, Any], key: str) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        response = await client.post("/chat/completions", json=request, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return response.content


@pytest.mark.anyio
async def test_the_bare_app_answers_what_the_mock_answers(bare_app: ModuleType) -> None:
    bare = bare_app.create_app(await bare_app.capture_async())
    mock = make_app()
    for request in (bare_app.JSON_REQUEST, bare_app.STREAM_REQUEST):
        served = await answer(bare, request, bare_app.API_KEY)
        expected = await answer(mock, request, bare_app.API_KEY)
        assert bare_app.comparable(served) == bare_app.comparable(expected)
        # Same length too: the ids and times have fixed widths, so both put the same bytes on the wire.
        assert len(served) == len(expected)


@pytest.mark.anyio
async def test_the_streamed_answer_has_fifty_content_chunks(bare_app: ModuleType) -> None:
    payloads = await bare_app.capture_async()
    events = bare_app.comparable(b"".join(payloads.frames))
    assert events[-1] is None  # data: [DONE]
    *content, last = events[:-1]
    assert len(content) == 50
    assert all(event["choices"][0]["delta"]["content"] for event in content)
    assert last["choices"][0]["finish_reason"] == "length"
    assert last["usage"]["completion_tokens"] == 50
    assert json.loads(payloads.completion)["object"] == "chat.completion"


@pytest.mark.anyio
async def test_the_paced_bare_app_sends_the_same_frames_on_the_mock_s_schedule(bare_app: ModuleType) -> None:
    payloads = await bare_app.capture_async()
    pace = bare_app.Pace(first_token=0.05, per_token=0.002)
    offsets = pace.offsets(len(payloads.frames))
    # 50 content chunks, one every 2 ms after the first token; the finishing chunk and [DONE] with the last.
    assert offsets[:2] == pytest.approx((0.05, 0.052))
    assert offsets[-3] == offsets[-2] == offsets[-1] == pytest.approx(0.148)
    app = bare_app.create_app(payloads, pace)
    began = time.monotonic()
    served = await answer(app, bare_app.STREAM_REQUEST, bare_app.API_KEY)
    assert time.monotonic() - began >= offsets[-1]
    assert served == b"".join(payloads.frames)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "open_streams": 0}


def bench_script(name: str, path: Path) -> ModuleType:
    # The scripts import each other (bare_app, report, stream_client, ...) as they do when run, from
    # their own directory.
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


# --- bench/run.py, wrk.py and report.py: the aged mock's keys, the fill script, the tables and the results file

RUN = BARE_APP.parent / "run.py"
WRK = BENCH / "wrk.py"
REPORT = BENCH / "report.py"


@pytest.fixture(scope="module")
def bench_run() -> ModuleType:
    return bench_script("bench_run", RUN)


@pytest.fixture(scope="module")
def bench_wrk() -> ModuleType:
    return bench_script("bench_wrk", WRK)


@pytest.fixture(scope="module")
def bench_report() -> ModuleType:
    return bench_script("bench_report", REPORT)


def test_the_aged_mock_s_keys_are_accepted_on_the_default_tier_and_told_apart(bench_wrk: ModuleType) -> None:
    keys = [bench_wrk.bench_key(index) for index in range(bench_wrk.AGED_KEYS)]
    assert keys[0] == "pplx-bench-00000" and keys[-1] == "pplx-bench-09999"
    assert all(KeyStore().accepts(key) for key in keys)
    # On the tier of the limits file the benchmark writes, never on one from the key's name: no 429s.
    assert {Tiers(default=5).resolve(key) for key in keys} == {(5, "default")}
    # The benchmark checks the journal holds every key by its masked form.
    assert len({mask_key(key) for key in keys}) == bench_wrk.AGED_KEYS


def test_the_fill_script_sends_the_keys_in_turn_and_stops_after_its_count(
    bench_wrk: ModuleType, tmp_path: Path
) -> None:
    script, flag = bench_wrk.fill_script(tmp_path, 1234, keys=10)
    lua = script.read_text()
    assert "local keys, count, sent, answered = 10, 1234, 0, 0" in lua
    line = next(line for line in lua.splitlines() if "Authorization" in line)
    assert line.strip() == 'headers["Authorization"] = string.format("Bearer pplx-bench-%05d", sent % keys)'
    # Lua's %05d of 7 is "00007": the script sends exactly the keys bench_key names.
    assert bench_wrk.bench_key(7) == "pplx-bench-00007"
    assert f'if answered == count then\n    assert(io.open({json.dumps(str(flag))}, "w")):close()' in lua
    assert "wrk.thread:stop()" in lua and bench_wrk.RESULT_MARK in lua
    assert json.loads((tmp_path / "fill.json").read_text()) == bench_wrk.bare_app.JSON_REQUEST
    assert not flag.exists()


def fake_results(bench_report: ModuleType, aged_rps: float, overfull_mib: float) -> Any:
    def runs(rps: float, p50_us: int, p99_us: int) -> list[Any]:
        return [bench_report.Run(int(rps * 5), 5_000_000, 1000, 0, 0, p50_us, p99_us)] * 3

    r = bench_report
    history = r.History(
        keys=10_000,
        journal_size=100_000,
        full=r.Reading(100_050, 120.0),
        checked=r.Reading(100_050, 121.0),
        overfull=r.Reading(110_050, overfull_mib),
        fill_rps=2000.0,
        after_runs=r.Reading(190_000, 122.0),
    )
    return r.Results(
        runs={
            "json": {
                "bare": runs(5000, 10_000, 12_000),
                "mock": runs(4000, 12_000, 20_000),
                "aged": runs(aged_rps, 12_000, 21_000),
            },
            "json1": {"bare": runs(5000, 180, 300), "mock": runs(4000, 240, 400), "aged": runs(3900, 250, 410)},
            "sse": {"bare": runs(800, 50_000, 80_000), "mock": runs(700, 60_000, 90_000)},
        },
        rss_mib={"bare": 32.0, "mock": 55.0},
        peak_rss_mib={"bare": 33.0, "mock": 57.0, "aged": 160.0},
        chunks_per_stream=51,
        history=history,
    )


def test_the_tables_compare_the_aged_mock_with_the_fresh_one(bench_report: ModuleType) -> None:
    tables, passed = bench_report.render(fake_results(bench_report, aged_rps=3800, overfull_mib=121.5), 64)
    assert passed
    assert "| JSON req/s, 64 conns | 5000 | 4000 | 0.80× | ≥ 0.7× | yes |" in tables
    assert "| metric | fresh | aged | ratio | target | pass |" in tables
    assert "| JSON req/s, 64 conns | 4000 | 3800 | 0.95× | ≥ 0.9× | yes |" in tables
    assert "| idle RSS MiB (VmRSS) | 55.0 | 120.0 | 2.18× |  |  |" in tables
    # 65 MiB over the fresh mock for 100,000 entries; bounded: +0.5 MiB for 10,000 more.
    assert "| journal full | 100,050 | 120.0 | +65.0 over fresh, 682 B an entry (buckets included) |" in tables
    assert "| 10,000 more | 110,050 | 121.5 | +0.5 | ≤ 2 (unbounded: +6.5) | yes |" in tables
    assert "| after the measured runs | 190,000 | 122.0 | +1.0 |  |  |" in tables


@pytest.mark.parametrize(("aged_rps", "overfull_mib"), [(3500, 121.5), (3800, 126.0)])
def test_a_slower_aged_mock_or_growing_memory_misses_the_target(
    bench_report: ModuleType, aged_rps: float, overfull_mib: float
) -> None:
    tables, passed = bench_report.render(fake_results(bench_report, aged_rps, overfull_mib), 64)
    assert not passed
    assert "**no**" in tables.split("| metric | fresh | aged |")[1]


def test_the_results_file_says_when_where_and_how(
    bench_run: ModuleType, bench_report: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(RUN.parent.parent)
    command = bench_run.command_line(["--output", "bench/RESULTS.md"])
    assert command.endswith("bench/run.py --output bench/RESULTS.md")
    tables, _ = bench_report.render(fake_results(bench_report, aged_rps=3800, overfull_mib=121.5), 64)
    started = datetime.datetime(2026, 11, 23, 13, 5, tzinfo=datetime.UTC)
    load = ((0.25, 0.5, 0.75), (1.0, 1.25, 1.5))
    text = bench_report.results_markdown(started, "2-core test machine", command, load, tables)
    assert text.startswith("# Benchmark results\n")
    assert "- Started: 2026-11-23 13:05 UTC\n" in text
    assert "- Machine: 2-core test machine\n" in text
    assert "- Load average (1, 5, 15 min): 0.25 0.50 0.75 before, 1.00 1.25 1.50 after\n" in text
    assert f"```bash\n  {command}\n  ```" in text
    assert text.endswith(tables + "\n")


# --- bench/streams.py and bench/stream_report.py: the side-by-side table, and a smoke run --------------

STREAMS = BENCH / "streams.py"
STREAM_REPORT = BENCH / "stream_report.py"


@pytest.fixture(scope="module")
def bench_streams() -> ModuleType:
    return bench_script("bench_streams", STREAMS)


@pytest.fixture(scope="module")
def bench_stream_report() -> ModuleType:
    return bench_script("bench_stream_report", STREAM_REPORT)


def test_the_streams_table_puts_bare_beside_mock_and_judges_the_mock(
    bench_streams: ModuleType, bench_stream_report: ModuleType
) -> None:
    def result(late: float) -> Any:
        schedule = bench_streams.Schedule(ttft=1.0, per_token=0.1, expected=10)
        tally = bench_streams.Tally(schedule, started=4, completed=4)
        tally.lateness.extend([0.001] * 98 + [late] * 2)
        return bench_stream_report.Result(tally, bench_streams.array("d"), samples=[(1.0, 4, 2048)], idle_kib=1024)

    args = argparse.Namespace(streams=4, timeout=60)
    table, passed = bench_stream_report.render({"bare": result(0.01), "mock": result(0.2)}, args)
    assert not passed
    assert table.startswith("| metric | bare | mock | target | pass |\n|---|---:|---:|---|---|\n")
    assert "| chunk lateness p99 ms | 10.0 | 200.0 | ≤ 50 ms | **no** |" in table
    assert "| open at once, server (/healthz peak) | 4 | 4 | ≥ 4 | yes |" in table
    assert "| memory per open stream KiB | 256.0 | 256.0 |  |  |" in table
    _, passed = bench_stream_report.render({"bare": result(0.2), "mock": result(0.01)}, args)
    assert passed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bench/streams.py reads /proc: Linux only")
def test_the_streams_benchmark_runs_and_prints_its_table() -> None:
    # --quick: 50 streams of 20 tokens against the mock alone, about 8 s. Its figures are not
    # checked, only that it works.
    done = subprocess.run([sys.executable, str(STREAMS), "--quick"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "| metric | mock | target | pass |" in done.stdout
    assert "| streams failed or cut by the time limit | 0 | 0 | yes |" in done.stdout
    assert "| open at once, server (/healthz peak) | 50 | ≥ 50 | yes |" in done.stdout


# --- the README documents every option of both benchmarks ---------------------------------------------


@pytest.mark.parametrize("script", ["bench_run", "bench_streams"])
def test_every_benchmark_option_is_in_the_readme(script: str, request: pytest.FixtureRequest) -> None:
    module: ModuleType = request.getfixturevalue(script)
    readme = (BENCH.parent / "README.md").read_text(encoding="utf-8")
    flags = {flag for action in module.build_parser()._actions for flag in action.option_strings}
    # Named in prose (`--flag`) or in a documented command line; `--flag-more` does not count.
    missing = [
        flag for flag in sorted(flags - {"-h", "--help"}) if not re.search(rf"{re.escape(flag)}(?![\w-])", readme)
    ]
    assert missing == [], f"README.md does not document these options of {script}"
