"""The report of `bench/run.py`: its figures, the tables that compare the servers, and the results file.

`bench/run.py` starts the servers and runs wrk; everything here works on the figures it gathered, so
the tables can be built (and tested) from made-up ones.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# Requests past a full journal: the aged mock's memory must not grow while it drops the oldest entries.
OVERFILL = 10_000
# The aged mock's VmRSS may grow this much between a full journal and OVERFILL requests more.
BOUNDED_GROWTH_MIB = 2.0
AGED_TARGET = 0.9


@dataclass(frozen=True)
class Run:
    requests: int
    duration_us: int
    bytes: int
    socket_errors: int
    non2xx: int
    p50_us: int
    p99_us: int

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)


@dataclass(frozen=True)
class Reading:
    # Requests the mock has journaled since start-up (the newest entry's `seq`), and its VmRSS then.
    requests: int
    rss_mib: float


@dataclass
class History:
    """The aged mock's memory: with a full journal, OVERFILL requests later, and after the measured runs."""

    keys: int
    journal_size: int
    full: Reading
    # After listing the newest entries to check the keys: where growth is counted from.
    checked: Reading
    overfull: Reading
    fill_rps: float
    after_runs: Reading | None = None


@dataclass
class Results:
    # scenario -> server name -> runs
    runs: dict[str, dict[str, list[Run]]]
    rss_mib: dict[str, float]
    peak_rss_mib: dict[str, float]
    chunks_per_stream: int
    history: History | None = None


def median(runs: list[Run], field: str) -> float:
    return float(statistics.median(getattr(run, field) for run in runs))


Row = tuple[str, float, float, str, str, bool | None]


def ratio_row(metric: str, base: float, measured: float, fmt: str, bound: float | None, higher: bool) -> Row:
    """A row comparing `measured` with `base`; `bound` on their ratio, reached from above when `higher`."""
    if bound is None:
        return (metric, base, measured, fmt, "", None)
    ratio = measured / base
    ok = ratio >= bound if higher else ratio <= bound
    return (metric, base, measured, fmt, f"{'≥' if higher else '≤'} {bound:g}×", ok)


def table(base: str, measured: str, rows: list[Row]) -> list[str]:
    lines = [f"| metric | {base} | {measured} | ratio | target | pass |", "|---|---:|---:|---:|---|---|"]
    for metric, left, right, fmt, target, ok in rows:
        lines.append(f"| {metric} | {left:{fmt}} | {right:{fmt}} | {right / left:.2f}× | {target} | {verdict(ok)} |")
    return lines


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "**no**")


def render(results: Results, connections: int) -> tuple[str, bool]:
    """The tables (Markdown), and whether every target was met."""
    json_c, json_1, sse = results.runs["json"], results.runs["json1"], results.runs["sse"]
    chunks = results.chunks_per_stream

    def ms(runs: list[Run], field: str) -> float:
        return median(runs, field) / 1000

    def json_rows(base: str, measured: str, targets: dict[str, float | None]) -> list[Row]:
        return [
            ratio_row(
                f"JSON req/s, {connections} conns",
                median(json_c[base], "rps"),
                median(json_c[measured], "rps"),
                ".0f",
                targets.get("rps"),
                True,
            ),
            ratio_row(
                f"JSON p99 ms, {connections} conns",
                ms(json_c[base], "p99_us"),
                ms(json_c[measured], "p99_us"),
                ".2f",
                targets.get("p99"),
                False,
            ),
            ratio_row(
                f"JSON p50 ms, {connections} conns",
                ms(json_c[base], "p50_us"),
                ms(json_c[measured], "p50_us"),
                ".2f",
                None,
                False,
            ),
            ratio_row(
                "JSON p50 ms, 1 conn",
                ms(json_1[base], "p50_us"),
                ms(json_1[measured], "p50_us"),
                ".2f",
                targets.get("p50_1"),
                False,
            ),
            ratio_row(
                "JSON req/s, 1 conn", median(json_1[base], "rps"), median(json_1[measured], "rps"), ".0f", None, True
            ),
        ]

    rows = json_rows("bare", "mock", {"rps": 0.7, "p99": 2.0, "p50_1": 1.4})
    rows.append(
        ratio_row(
            f"SSE chunks/s, {connections} conns",
            median(sse["bare"], "rps") * chunks,
            median(sse["mock"], "rps") * chunks,
            ".0f",
            0.6,
            True,
        )
    )
    rows.append(
        ratio_row(
            f"SSE p99 ms, {connections} conns", ms(sse["bare"], "p99_us"), ms(sse["mock"], "p99_us"), ".2f", None, False
        )
    )
    bare_rss, mock_rss = results.rss_mib["bare"], results.rss_mib["mock"]
    rows.append(("idle RSS MiB (VmRSS)", bare_rss, mock_rss, ".1f", "mock ≤ 80 MiB", mock_rss <= 80))
    rows.append(("peak RSS MiB (VmHWM)", results.peak_rss_mib["bare"], results.peak_rss_mib["mock"], ".1f", "", None))
    lines = table("bare", "mock", rows)
    verdicts = [ok for *_, ok in rows]
    if results.history is not None:
        aged, aged_verdicts = render_history(results, results.history, json_rows("mock", "aged", {"rps": AGED_TARGET}))
        lines += ["", *aged]
        verdicts += aged_verdicts

    errors = [
        f"{scenario} {server}: {sum(r.socket_errors for r in runs)} socket errors, "
        f"{sum(r.non2xx for r in runs)} non-2xx answers"
        for scenario, by_server in results.runs.items()
        for server, runs in by_server.items()
        if any(r.socket_errors or r.non2xx for r in runs)
    ]
    lines += [f"\nbench: ERROR {line}" for line in errors]
    passed = not errors and all(ok is not False for ok in verdicts)
    return "\n".join(lines), passed


def render_history(results: Results, history: History, rows: list[Row]) -> tuple[list[str], list[bool | None]]:
    """The aged mock against the fresh one, and its memory as its history grows."""
    fresh_rss = results.rss_mib["mock"]
    rows.append(("idle RSS MiB (VmRSS)", fresh_rss, history.full.rss_mib, ".1f", "", None))
    if "aged" in results.peak_rss_mib:
        rows.append(
            ("peak RSS MiB (VmHWM)", results.peak_rss_mib["mock"], results.peak_rss_mib["aged"], ".1f", "", None)
        )
    grown = history.full.rss_mib - fresh_rss
    # What OVERFILL more entries would add if nothing were ever dropped.
    unbounded = grown * OVERFILL / history.journal_size
    overgrowth = history.overfull.rss_mib - history.checked.rss_mib
    bounded = overgrowth <= BOUNDED_GROWTH_MIB
    lines = [
        f"Aged mock: journal of {history.journal_size:,} entries (full) from {history.keys:,} keys, each with "
        f"its bucket, filled at {history.fill_rps:,.0f} req/s; fresh: the same command, emptied before each run.",
        "",
        *table("fresh", "aged", rows),
        "",
        "| aged mock | requests so far | VmRSS MiB | growth MiB | target | pass |",
        "|---|---:|---:|---:|---|---|",
        f"| journal full | {history.full.requests:,} | {history.full.rss_mib:.1f} | {grown:+.1f} over fresh, "
        f"{grown * 2**20 / history.journal_size:,.0f} B an entry (buckets included) |  |  |",
        f"| listed the newest {2 * history.keys:,} | {history.checked.requests:,} | {history.checked.rss_mib:.1f} | "
        f"{history.checked.rss_mib - history.full.rss_mib:+.1f} |  |  |",
        f"| {OVERFILL:,} more | {history.overfull.requests:,} | {history.overfull.rss_mib:.1f} | {overgrowth:+.1f} | "
        f"≤ {BOUNDED_GROWTH_MIB:g} (unbounded: {unbounded:+.1f}) | {verdict(bounded)} |",
    ]
    if history.after_runs is not None:
        after = history.after_runs
        lines.append(
            f"| after the measured runs | {after.requests:,} | {after.rss_mib:.1f} | "
            f"{after.rss_mib - history.checked.rss_mib:+.1f} |  |  |"
        )
    return lines, [*(ok for *_, ok in rows), bounded]


def describe_load(load: tuple[tuple[float, float, float], tuple[float, float, float]]) -> str:
    before, after = (" ".join(f"{value:.2f}" for value in values) for values in load)
    return f"{before} before, {after} after"


def results_markdown(
    started: datetime.datetime,
    machine: str,
    command: str,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
    tables: str,
) -> str:
    return (
        f"# Benchmark results\n\n"
        f"Written by `bench/run.py --output`; see README, Performance, for what is measured and the targets.\n\n"
        f"- Started: {started:%Y-%m-%d %H:%M} UTC\n"
        f"- Machine: {machine}\n"
        f"- Load average (1, 5, 15 min): {describe_load(load)}\n"
        f"- Command, from the repository root:\n\n"
        f"  ```bash\n  {command}\n  ```\n\n"
        f"{tables}\n"
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine(args: argparse.Namespace, wrk: str, pin: dict[str, list[str]]) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    names = ("starlette", "uvicorn", "uvloop", "httptools", "anyio", "pydantic")
    versions = ", ".join(f"{name} {_version(name)}" for name in names)
    pinned = f"servers on core {args.server_cpu}, wrk on core {args.wrk_cpu}" if pin["server"] else "unpinned"
    return (
        f"{datetime.date.today().isoformat()}: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; "
        f"Python {platform.python_version()}, {versions}; uvicorn with --loop {args.loop} --http {args.http}; "
        f"{wrk_version.split(' [')[0]}, 1 thread; {pinned}; "
        f"median of {args.runs} × {args.duration:g} s after {args.warmup:g} s warm-up"
    )
