"""`python -m load run PROFILE [--users N] [--spawn-rate R] [--run-time 20s] [--out PREFIX] [--workers N]`
and `python -m load list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from load.runner import PROFILES, run


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
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, profile in PROFILES.items():
            print(f"{name:12} {profile.users:3} users  {profile.run_time:>4}  {profile.description}")
        return 0
    return run(
        args.profile,
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        out=args.out,
        workers=args.workers,
    )


if __name__ == "__main__":
    sys.exit(main())
