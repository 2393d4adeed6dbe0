"""The summary of a run, read from Locust's CSV files (`<prefix>_stats.csv`, `<prefix>_failures.csv`)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "Summary", "read_summary"]

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Row:
    type: str
    name: str
    count: int
    failures: int
    rps: float
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
        rps=_number(record["Requests/s"]),
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

    def render(self) -> str:
        http = self.http
        total = self.http_requests
        failed = sum(row.failures for row in http)
        lines = [
            f"HTTP: {total} requests, {sum(row.rps for row in http):.1f} requests/s, "
            f"{failed} failed ({_percent(failed, total)})"
        ]
        lines += [_latency_line(row) for row in http]
        calls = self.of_type("CALL")
        if calls:
            done = sum(row.count for row in calls)
            failed_calls = sum(row.failures for row in calls)
            lines.append(f"calls (end to end: pacing, retries, polls): {done}, {failed_calls} failed "
                         f"({_percent(failed_calls, done)})")  # fmt: skip
            lines += [_latency_line(row) for row in calls]
        for row in self.of_type("TTFT"):
            lines.append(f"TTFT {row.name}: p50 {row.p50:g} ms, p95 {row.p95:g} ms, p99 {row.p99:g} ms")
        for row in self.of_type("ITL"):
            lines.append(f"inter-token latency {row.name}: p50 {row.p50:g} ms, p95 {row.p95:g} ms")
        for row in self.of_type("TPS"):
            lines.append(f"tokens/s {row.name}: p50 {row.p50:g} ({row.count} streams)")
        for row in self.of_type("STREAM"):
            lines.append(f"stream completion: {row.count - row.failures}/{row.count} "
                         f"({_percent(row.count - row.failures, row.count)})")  # fmt: skip
        lines.append(f"429 share: {self.share_429 * 100:.1f}% ({self.http_429} of {total} HTTP requests)")
        lines.append("errors by kind:" + ("" if self.errors else " none"))
        lines += [f"  {kind}: {count}" for kind, count in self.errors.most_common()]
        return "\n".join(lines)


def _latency_line(row: Row) -> str:
    return (f"  {row.label}: {row.count} ({row.rps:.1f} requests/s), p50 {row.p50:g} ms, p95 {row.p95:g} ms, "
            f"p99 {row.p99:g} ms, {row.failures} failed")  # fmt: skip


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
