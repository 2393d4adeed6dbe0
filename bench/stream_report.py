"""The report of `bench/streams.py`: a run's figures and the table that puts the servers side by side.

`bench/streams.py` starts the servers and drives the streams; everything here works on what it
gathered, so the table can be built (and tested) from made-up figures.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from stream_client import Tally

LATENESS_TARGET_MS = 50
RSS_TARGET_MIB = 1024


@dataclass
class Result:
    tally: Tally
    lag: array[float]
    # (seconds since the ramp began, open_streams reported by the mock, VmRSS KiB)
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    cpu_share: float = 0.0
    client_cpu_share: float = 0.0
    chunks_per_second: float = 0.0
    requests_per_second: float = 0.0
    timed_out: int = 0
    # The 1-minute load average before and after the run.
    load_average: tuple[float, float] = (0.0, 0.0)
    idle_kib: int = 0
    after_kib: int = 0
    hwm_kib: int = 0


def percentile(ordered: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie (nearest rank); NaN when there are none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Row = tuple[str, str, str, bool | None]


def render(results: dict[str, Result], args: argparse.Namespace) -> tuple[str, bool]:
    """One column per server, side by side; the target and pass columns judge the last (the mock)."""
    names = list(results)
    columns = [rows(result, args) for result in results.values()]
    judged = columns[-1]
    lines = [f"| metric | {' | '.join(names)} | target | pass |", "|---|" + "---:|" * len(names) + "---|---|"]
    for index, (metric, _, target, ok) in enumerate(judged):
        values = " | ".join(column[index][1] for column in columns)
        lines.append(f"| {metric} | {values} | {target} | {'' if ok is None else ('yes' if ok else '**no**')} |")
    for name, result in results.items():
        lines += [
            f"\nbench: ERROR {name}: {count} streams: {reason}" for reason, count in sorted(result.tally.errors.items())
        ]
        if result.timed_out:
            lines.append(
                f"\nbench: ERROR {name}: {result.timed_out} connections still open at the {args.timeout:g} s limit"
            )
    return "\n".join(lines), all(ok is not False for *_, ok in judged)


def rows(result: Result, args: argparse.Namespace) -> list[Row]:
    tally = result.tally
    rows: list[Row] = []
    peak_open, peak_rss = max(((opened, rss) for _, opened, rss in result.samples), default=(0, 0))
    rows.append(("streams started / completed", f"{tally.started} / {tally.completed}", "", None))
    failed = tally.failed
    rows.append(("streams failed or cut by the time limit", str(failed), "0", failed == 0))
    rows.append(
        ("open at once, server (/healthz peak)", str(peak_open), f"≥ {args.streams}", peak_open >= args.streams)
    )
    rows.append(("open at once, client (requests unanswered)", str(tally.open_peak), "", None))
    rows.append(("streams started/s while all open", f"{result.requests_per_second:.0f}", "", None))
    rows.append(("chunks/s while all open", f"{result.chunks_per_second:.0f}", "", None))
    per_chunk = f"{result.cpu_share / result.chunks_per_second * 1e6:.0f}" if result.chunks_per_second else "-"
    rows.append(("server CPU µs per chunk", per_chunk, "", None))
    chunks = ", ".join(str(count) for count in sorted(tally.content_chunks)) or "-"
    rows.append(("content chunks per finished stream", chunks, "", None))
    rows.append(("body bytes per chunk", f"{tally.body_bytes / max(1, tally.events):.0f}", "", None))
    lateness = sorted(tally.lateness)
    p99 = percentile(lateness, 0.99) * 1000
    rows.append(("chunk lateness p50 ms", f"{percentile(lateness, 0.5) * 1000:.1f}", "", None))
    rows.append(("chunk lateness p99 ms", f"{p99:.1f}", f"≤ {LATENESS_TARGET_MS} ms", p99 <= LATENESS_TARGET_MS))
    rows.append(("chunk lateness max ms", f"{percentile(lateness, 1.0) * 1000:.1f}", "", None))
    rows.append(("chunks due but missing at the end", str(tally.missing), "", None))
    first = percentile(sorted(tally.first_lateness), 0.99) * 1000
    rows.append(("first chunk lateness p99 ms", f"{first:.1f}", "", None))
    rows.append(("client loop lag p99 / max ms", lag_text(result.lag), "", None))
    rows.append(("server CPU while all open", f"{result.cpu_share:.0%} of a core", "", None))
    rows.append(("client CPU while all open", f"{result.client_cpu_share:.0%} of a core", "", None))
    rows.append(("server RSS idle MiB (VmRSS)", f"{result.idle_kib / 1024:.1f}", "", None))
    rows.append(("server RSS at peak open MiB", f"{peak_rss / 1024:.1f}", "", None))
    rows.append(("server RSS after close MiB", f"{result.after_kib / 1024:.1f}", "", None))
    hwm = result.hwm_kib / 1024
    rows.append(("server peak RSS MiB (VmHWM)", f"{hwm:.1f}", f"< {RSS_TARGET_MIB} MiB", hwm < RSS_TARGET_MIB))
    per_stream = (peak_rss - result.idle_kib) / peak_open if peak_open else float("nan")
    rows.append(("memory per open stream KiB", f"{per_stream:.1f}", "", None))
    rows.append(("load average (1 min) before / after", "{:.2f} / {:.2f}".format(*result.load_average), "", None))
    return rows


def lag_text(lags: array[float]) -> str:
    ordered = sorted(lags)
    return f"{percentile(ordered, 0.99) * 1000:.1f} / {percentile(ordered, 1.0) * 1000:.1f}"


def describe(args: argparse.Namespace, pin: list[str], results: dict[str, Result], model: str) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    pinned = f"server on core {args.server_cpu}, client on core {args.client_cpu}" if pin else "unpinned"
    runs = ", then ".join(results)
    return (
        f"{datetime.date.today().isoformat()}: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, uvicorn with --loop {args.loop} --http {args.http}; {pinned}; {runs}\n"
        f"{args.streams} streams, each a streamed {model} completion (disable_search, max_tokens {args.max_tokens}, "
        f"full stream mode) at {args.tokens_per_second:g} tokens/s (time scale {args.time_scale:g}), "
        f"opened over {args.ramp:g} s and renewed on the same connection for {args.duration:g} s more"
    )
