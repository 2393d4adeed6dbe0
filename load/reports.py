"""Locust's CSV reports, written once more with the final stats when Locust quits.

Locust's `--csv` writer rewrites `<prefix>_stats.csv`, `<prefix>_failures.csv` and
`<prefix>_exceptions.csv` from a greenlet once a second (`CSV_STATS_INTERVAL_SEC`) and, at exit,
only closes them. So they miss what happened after its last pass: up to a second of requests, and
the calls users finish while they stop. Locust's final console report and HTML report have them.
`rewrite_csv_at_quit` writes the files again from the same stats, right after that console report,
so the files and the summary read from them say what Locust's final report says.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

__all__ = ["rewrite_csv_at_quit", "write_csv"]


def write_csv(environment: Environment, prefix: str) -> None:
    """Write `<prefix>_stats.csv`, `_failures.csv` and `_exceptions.csv` from the environment's stats."""
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    files: dict[str, Callable[[Any], None]] = {
        "_stats.csv": writer.requests_csv,
        "_failures.csv": writer.failures_csv,
        "_exceptions.csv": writer.exceptions_csv,
    }
    for suffix, write in files.items():
        path = Path(f"{prefix}{suffix}")
        partial = path.with_name(f"{path.name}.partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            write(csv.writer(handle))
        # A new file in the old one's place: Locust still holds the old one open, and closes it after us.
        os.replace(partial, path)


def rewrite_csv_at_quit(environment: Environment, **_kwargs: Any) -> None:
    """An `init` listener: with `--csv`, write the CSV files from the final stats when Locust quits.

    `quit` fires after the users have stopped (a master's workers have sent their last stats) and
    Locust has printed its final report, just before it closes its own CSV files and exits.
    """
    options = environment.parsed_options
    prefix = getattr(options, "csv_prefix", None)
    # A worker writes no reports: its master gets its stats and writes them.
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return
    environment.events.quit.add_listener(lambda **_kwargs: write_csv(environment, prefix))  # type: ignore[no-untyped-call]
