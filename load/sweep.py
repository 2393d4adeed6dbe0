"""A capacity sweep: one short headless run per (tier, concurrency, limiter) step, each on buckets of
its own, then a CSV, a PNG plot and the answer to "which tier and which client settings reach
N requests a minute without 429s"."""

from __future__ import annotations

import csv
import io
import itertools
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from load.runner import PROFILES, run, seconds
from load.summary import Row, Summary, per_second, read_summary

__all__ = ["COLUMNS", "Result", "Step", "answer", "parse_list", "plot", "steps", "sweep", "write_csv"]

COLUMNS = ("tier", "concurrency", "limiter", "users", "seconds", "requests", "failures", "http_429",
           "share_429", "rpm", "ok_rpm", "p50_ms", "p95_ms", "call_p50_ms", "call_p95_ms")  # fmt: skip


@dataclass(frozen=True)
class Step:
    tier: int
    concurrency: int
    limiter: bool

    @property
    def name(self) -> str:
        return f"tier{self.tier}-c{self.concurrency}-limiter-{'on' if self.limiter else 'off'}"

    @property
    def settings(self) -> str:
        return f"tier {self.tier} with concurrency {self.concurrency}, limiter {'on' if self.limiter else 'off'}"

    def env(self, namespace: str) -> dict[str, str]:
        return {
            "PPLX_LOAD_TIER": str(self.tier),
            "PPLX_LOAD_CONCURRENCY": str(self.concurrency),
            "PPLX_LOAD_LIMITER": "on" if self.limiter else "off",
            "PPLX_LOAD_NAMESPACE": f"{namespace}-{self.name}",
        }


@dataclass(frozen=True)
class Result:
    """One step's figures: HTTP attempts (retries included) and the client's calls end to end."""

    step: Step
    users: int
    seconds: float
    requests: int
    failures: int
    http_429: int
    # Attempts a minute over the step's run time (`per_second`, not Locust's Requests/s, which overstates
    # a short, paced step: 3 requests in 3 s read as 134 a minute).
    rpm: float
    p50_ms: float
    p95_ms: float
    call_p50_ms: float
    call_p95_ms: float

    @classmethod
    def of(cls, step: Step, users: int, run_time: float, summary: Summary) -> Result:
        http, calls = summary.http, summary.of_type("CALL")
        return cls(
            step=step,
            users=users,
            seconds=run_time,
            requests=summary.http_requests,
            failures=sum(row.failures for row in http),
            http_429=summary.http_429,
            rpm=per_second(summary.http_requests, run_time) * 60,
            p50_ms=_busiest(http).p50 if http else 0.0,
            p95_ms=_busiest(http).p95 if http else 0.0,
            call_p50_ms=_busiest(calls).p50 if calls else 0.0,
            call_p95_ms=_busiest(calls).p95 if calls else 0.0,
        )

    @property
    def share_429(self) -> float:
        return self.http_429 / self.requests if self.requests else 0.0

    @property
    def ok_rpm(self) -> float:
        """Attempts a minute that did not fail: the throughput an application gets."""
        return self.rpm * (self.requests - self.failures) / self.requests if self.requests else 0.0

    def record(self) -> dict[str, str]:
        values = (self.step.tier, self.step.concurrency, "on" if self.step.limiter else "off", self.users,
                  f"{self.seconds:g}", self.requests, self.failures, self.http_429, f"{self.share_429:.4f}",
                  f"{self.rpm:.1f}", f"{self.ok_rpm:.1f}", f"{self.p50_ms:g}", f"{self.p95_ms:g}",
                  f"{self.call_p50_ms:g}", f"{self.call_p95_ms:g}")  # fmt: skip
        return dict(zip(COLUMNS, (str(value) for value in values), strict=True))


def _busiest(rows: list[Row]) -> Row:
    # Percentiles of the busiest route: several routes' percentiles cannot be merged from the CSV.
    return max(rows, key=lambda row: row.count)


def parse_list(text: str, kind: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError(f"{kind}: give at least one value")
    return items


def steps(tiers: list[int], concurrency: list[int], limiter: list[bool]) -> list[Step]:
    return [Step(*values) for values in itertools.product(tiers, concurrency, limiter)]


def answer(results: list[Result], target_rpm: float | None) -> str:
    """The cheapest step with no 429 that reaches the target: lowest tier, then lowest concurrency, limiter on first."""
    clean = [r for r in results if r.requests and r.http_429 == 0]
    if target_rpm is None:
        if not clean:
            return "most req/min without 429s: none of the steps"
        best = max(clean, key=lambda r: r.ok_rpm)
        return f"most req/min without 429s: {best.ok_rpm:.0f} with {best.step.settings}"
    met = [r for r in clean if r.ok_rpm >= target_rpm]
    if not met:
        return f"reach {target_rpm:g} req/min without 429s: none of the steps"
    best = min(met, key=lambda r: (r.step.tier, r.step.concurrency, not r.step.limiter))
    return f"reach {target_rpm:g} req/min without 429s: {best.step.settings}"


def table(results: list[Result]) -> str:
    lines = [f"{'tier':>4} {'conc':>4} {'limiter':>7} {'requests':>8} {'req/min':>8} {'ok/min':>8} "
             f"{'429s':>5} {'429 %':>6} {'p50 ms':>7} {'p95 ms':>7} {'call p95':>8}"]  # fmt: skip
    for r in results:
        lines.append(f"{r.step.tier:>4} {r.step.concurrency:>4} {'on' if r.step.limiter else 'off':>7} "
                     f"{r.requests:>8} {r.rpm:>8.0f} {r.ok_rpm:>8.0f} {r.http_429:>5} {r.share_429 * 100:>6.1f} "
                     f"{r.p50_ms:>7g} {r.p95_ms:>7g} {r.call_p95_ms:>8g}")  # fmt: skip
    return "\n".join(lines)


def write_csv(results: list[Result], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(r.record() for r in results)


def plot(results: list[Result], path: Path, target_rpm: float | None = None) -> None:
    """Throughput (top) and 429 share (bottom) per step, grouped by tier; the target as a dashed line."""
    import matplotlib  # dev extra; imported here so `python -m load run` needs none of it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tiers = sorted({r.step.tier for r in results})
    settings = sorted({(r.step.concurrency, r.step.limiter) for r in results}, key=lambda s: (s[0], not s[1]))
    width = 0.8 / len(settings)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(6.0, 1.6 * len(tiers) * len(settings)), 7))
    for index, (concurrency, limiter) in enumerate(settings):
        chosen = {r.step.tier: r for r in results if (r.step.concurrency, r.step.limiter) == (concurrency, limiter)}
        xs = [tiers.index(tier) + (index - (len(settings) - 1) / 2) * width for tier in chosen]
        label = f"concurrency {concurrency}, limiter {'on' if limiter else 'off'}"
        hatch = None if limiter else "//"
        top.bar(xs, [r.ok_rpm for r in chosen.values()], width, label=label, hatch=hatch, color=f"C{index}")
        bars = bottom.bar(xs, [r.share_429 * 100 for r in chosen.values()], width, hatch=hatch, color=f"C{index}")
        bottom.bar_label(bars, fmt="%.0f%%", fontsize="small")
    if target_rpm is not None:
        top.axhline(target_rpm, color="black", linestyle="--", linewidth=1, label=f"target {target_rpm:g} req/min")
    top.set_ylabel("requests/min without failure")
    top.set_title("capacity sweep: throughput and 429 share per step")
    top.legend(fontsize="small")
    bottom.set_ylabel("429 share of attempts (%)")
    bottom.set_ylim(0, 100)
    bottom.set_xticks(range(len(tiers)), [f"tier {tier}" for tier in tiers])
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)


def sweep(
    profile: str,
    plan: list[Step],
    *,
    step_time: str,
    out: Path,
    users: int | None = None,
    target_rpm: float | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Run every step of `plan`, write `<out>.csv` and `<out>.png`, print the table and the answer.

    Each step is one headless run of `profile` with `PPLX_LOAD_TIER`, `PPLX_LOAD_CONCURRENCY` and
    `PPLX_LOAD_LIMITER` set and a namespace of its own, so no step inherits another's drained buckets.
    Returns 1 when a step's Locust failed (its row is left out), else 0.
    """
    print_ = stdout or sys.stdout
    run_time = seconds(step_time)
    users = users or PROFILES[profile].users
    steps_dir = Path(f"{out}_steps")
    steps_dir.mkdir(parents=True, exist_ok=True)
    namespace = f"{os.environ.get('PPLX_LOAD_NAMESPACE') or 'sweep'}-{uuid.uuid4().hex[:8]}"
    results: list[Result] = []
    code = 0
    for number, step in enumerate(plan, 1):
        prefix = steps_dir / step.name
        log = io.StringIO()
        step_code = run(profile, users=users, run_time=step_time, out=prefix, stdout=log, env=step.env(namespace))
        Path(f"{prefix}.txt").write_text(log.getvalue(), encoding="utf-8")
        if step_code != 0 or not Path(f"{prefix}_stats.csv").exists():
            code = 1
            print(f"[{number}/{len(plan)}] {step.settings}: locust failed, see {prefix}.txt", file=print_)
            continue
        result = Result.of(step, users, run_time, read_summary(prefix))
        results.append(result)
        print(f"[{number}/{len(plan)}] {step.settings}: {result.ok_rpm:.0f} req/min, "
              f"429 share {result.share_429 * 100:.1f}%", file=print_)  # fmt: skip
    csv_path, png_path = Path(f"{out}.csv"), Path(f"{out}.png")
    write_csv(results, csv_path)
    if results:
        plot(results, png_path, target_rpm)
    print(f"\n{profile}, {users} users, {step_time} a step\n{table(results)}\n", file=print_)
    print(answer(results, target_rpm), file=print_)
    print(f"reports: {csv_path}, {png_path}; each step's in {steps_dir}/", file=print_)
    return code
