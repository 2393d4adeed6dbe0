"""`python -m load run PROFILE [--users N] [--spawn-rate R] [--run-time 20s] [--out PREFIX] [--workers N]`,
`python -m load sweep --tiers 0,1,2 --concurrency 1,8 --limiter on,off --step 10s [--target-rpm N]`
and `python -m load list`."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from load.runner import PROFILES, run, seconds
from load.settings import LoadSettings
from load.sweep import parse_list, steps, sweep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load", description="Locust load profiles, run headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the profiles, with their default users and run time")
    runner = commands.add_parser("run", help="run one profile headless and print its summary")
    runner.add_argument("profile", choices=sorted(PROFILES))
    runner.add_argument("--users", "-u", type=int, help="peak users (default: the profile's)")
    runner.add_argument("--spawn-rate", "-r", type=float, help="users started a second (default: all at once)")
    runner.add_argument("--run-time", "-t", help="e.g. 20s, 5m (default: the profile's)")
    runner.add_argument("--out", type=Path, help="report prefix (default reports/PROFILE)")
    runner.add_argument("--workers", type=int, default=0, help="distributed: a master and N workers on loopback")
    sweeper = commands.add_parser("sweep", help="one short run per tier, concurrency and limiter: CSV, PNG, answer")
    sweeper.add_argument("--tiers", default="0,1,2", help="usage tiers, comma-separated (default 0,1,2)")
    sweeper.add_argument("--concurrency", default="1,8", help="client max_concurrency values (default 1,8)")
    sweeper.add_argument("--limiter", default="on,off", help="on, off or both (default on,off)")
    sweeper.add_argument("--step", default="10s", help="each step's run time (default 10s)")
    sweeper.add_argument("--users", "-u", type=int, help="users in every step (default: the profile's)")
    sweeper.add_argument("--profile", choices=sorted(PROFILES), default="steady", help="default steady")
    sweeper.add_argument("--target-rpm", type=float, help="the requests a minute to reach without 429s")
    sweeper.add_argument("--out", type=Path, default=Path("reports/sweep"), help="writes OUT.csv, OUT.png")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, profile in PROFILES.items():
            print(f"{name:12} {profile.users:3} users  {profile.run_time:>4}  {profile.description}")
        return 0
    if args.users is not None and args.users < 1:
        parser.error(f"--users: at least 1, got {args.users}")
    if args.command == "sweep":
        try:
            tiers = [int(tier) for tier in parse_list(args.tiers, "--tiers")]
            concurrency = [int(value) for value in parse_list(args.concurrency, "--concurrency")]
            limiter = [value.lower() for value in parse_list(args.limiter, "--limiter")]
            seconds(args.step)
        except ValueError as exc:
            parser.error(str(exc))
        if not all(0 <= tier <= 5 for tier in tiers):
            parser.error(f"--tiers: usage tiers are 0-5, got {args.tiers}")
        if not all(value >= 1 for value in concurrency):
            parser.error(f"--concurrency: at least 1, got {args.concurrency}")
        if not set(limiter) <= {"on", "off"}:
            parser.error(f"--limiter: on, off or on,off, got {args.limiter}")
        if importlib.util.find_spec("matplotlib") is None:
            parser.error("the plot needs matplotlib: pip install -e '.[dev]' (or pip install matplotlib)")
        plan = steps(tiers, concurrency, [value == "on" for value in dict.fromkeys(limiter)])
        # Each step sets its tier, concurrency and limiter; the other variables are the process's own.
        for step in plan:
            check_env(parser, step.env("sweep"))
        return sweep(
            args.profile, plan, step_time=args.step, out=args.out, users=args.users, target_rpm=args.target_rpm
        )
    if args.run_time is not None:
        try:
            seconds(args.run_time)
        except ValueError as exc:
            parser.error(f"--run-time: {exc}")
    if args.spawn_rate is not None and not args.spawn_rate > 0:
        parser.error(f"--spawn-rate: more than 0, got {args.spawn_rate:g}")
    if args.workers < 0:
        parser.error(f"--workers: 0 or more, got {args.workers}")
    check_env(parser, {})
    return run(
        args.profile,
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        out=args.out,
        workers=args.workers,
    )


def check_env(parser: argparse.ArgumentParser, overrides: dict[str, str]) -> None:
    """Exit with status 2 and a one-line error when a `PPLX_LOAD_*` variable is bad, before Locust starts."""
    try:
        LoadSettings.from_env(environ={**os.environ, **overrides})
    except ValueError as exc:
        # Not parser.error: the command line is fine, so its usage would only hide the message.
        parser.exit(2, f"{parser.prog}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
