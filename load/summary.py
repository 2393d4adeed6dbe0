"""The summary of a run, read from Locust's CSV files (`<prefix>_stats.csv`, `<prefix>_failures.csv`).

The files must hold the final stats: Locust itself rewrites them only once a second during the run,
so every profile has it write them once more as it quits (`load.reports`).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "Summary", "per_second", "read_summary"]

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Row:
    """One row of `<prefix>_stats.csv`, without Locust's "Requests/s": rates come from `per_second`."""

    type: str
    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float

    @property
    def label(self) -> str:
        return f"{self.type} {self.name}"


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "N/A" when a row has no samples
        return 0.0


def _row(record: dict[str, str]) -> Row:
    return Row(
        type=record["Type"],
        name=record["Name"],
        count=int(record["Request Count"]),
        failures=int(record["Failure Count"]),
        p50=_number(record["50%"]),
        p95=_number(record["95%"]),
        p99=_number(record["99%"]),
    )


@dataclass(frozen=True)
class Summary:
    rows: list[Row]
    errors: Counter[str]

    @property
    def http(self) -> list[Row]:
        return [row for row in self.rows if row.type in HTTP_METHODS]

    def of_type(self, kind: str) -> list[Row]:
        return [row for row in self.rows if row.type == kind]

    @property
    def http_requests(self) -> int:
        return sum(row.count for row in self.http)

    @property
    def http_429(self) -> int:
        return self.errors.get("HTTP 429", 0)

    @property
    def share_429(self) -> float:
        return self.http_429 / self.http_requests if self.http_requests else 0.0

    def render(self, run_seconds: float) -> str:
        """The printed summary; rates are over `run_seconds`, the run's `--run-time`."""
        http = self.http
        total = self.http_requests
        failed = sum(row.failures for row in http)
        lines = [
            f"HTTP: {total} requests, {per_second(total, run_seconds):.1f} requests/s over the {run_seconds:g} s "
            f"run time, {failed} failed ({_percent(failed, total)})"
        ]
        lines += [_latency_line(row, run_seconds) for row in http]
        calls = self.of_type("CALL")
        if calls:
            done = sum(row.count for row in calls)
            failed_calls = sum(row.failures for row in calls)
            lines.append(f"calls (end to end: pacing, retries, polls): {done}, {failed_calls} failed "
                         f"({_percent(failed_calls, done)})")  # fmt: skip
            lines += [_latency_line(row, run_seconds) for row in calls]
        for row in self.of_type("TTFT"):
            lines.append(f"TTFT {row.name}: p50 {row.p50:g} ms, p95 {row.p95:g} ms, p99 {row.p99:g} ms")
        for row in self.of_type("ITL_US"):
            lines.append(f"inter-token latency {row.name}: p50 {_microseconds(row.p50)}, p95 {_microseconds(row.p95)}")
        for row in self.of_type("TPS"):
            lines.append(f"tokens/s {row.name}: p50 {row.p50:g} ({row.count} streams)")
        for row in self.of_type("STREAM"):
            lines.append(f"stream completion: {row.count - row.failures}/{row.count} "
                         f"({_percent(row.count - row.failures, row.count)})")  # fmt: skip
        lines.append(f"429 share: {self.share_429 * 100:.1f}% ({self.http_429} of {total} HTTP requests)")
        lines.append("errors by kind:" + ("" if self.errors else " none"))
        lines += [f"  {kind}: {count}" for kind, count in self.errors.most_common()]
        return "\n".join(lines)


def per_second(count: int, run_seconds: float) -> float:
    """`count` a second over the run's time.

    Not Locust's "Requests/s": it divides by the time from the first request to the last, which
    overstates a short, paced run (10 users at one call a second for 5 s read as 12.4 a second).
    """
    return count / run_seconds if run_seconds > 0 else 0.0


def _latency_line(row: Row, run_seconds: float) -> str:
    return (f"  {row.label}: {row.count} ({per_second(row.count, run_seconds):.1f} requests/s), p50 {row.p50:g} ms, "
            f"p95 {row.p95:g} ms, p99 {row.p99:g} ms, {row.failures} failed")  # fmt: skip


def _microseconds(value: float) -> str:
    # A value in µs, shown in ms from 1 ms up: 560 µs, 1.5 ms, 21 ms (Locust keeps two significant digits).
    return f"{value / 1000:g} ms" if value >= 1000 else f"{value:g} µs"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "n/a"


def read_summary(prefix: Path) -> Summary:
    """Read `<prefix>_stats.csv` and `<prefix>_failures.csv`."""
    with Path(f"{prefix}_stats.csv").open(newline="", encoding="utf-8") as handle:
        rows = [_row(record) for record in csv.DictReader(handle) if record["Type"]]
    errors: Counter[str] = Counter()
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                # Attempts' errors ("HTTP 429") stand alone; the users' own rows say whose they are.
                method, error = record["Method"], record["Error"]
                kind = error if method in HTTP_METHODS else f"{method}: {error}"
                errors[kind] += int(record["Occurrences"])
    return Summary(rows, errors)
