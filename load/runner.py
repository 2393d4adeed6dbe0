"""Runs one profile headless as a Locust subprocess (optionally a master and workers on loopback),
then prints the summary read from its CSV files (which `load.reports` rewrites with the final stats
when Locust quits). Locust is never imported here: it patches the standard library with gevent when
imported."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from load.settings import LoadSettings
from load.summary import read_summary

__all__ = ["PROFILES", "Profile", "locust_command", "run", "seconds"]

ROOT = Path(__file__).resolve().parent.parent
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
# Time allowed past --run-time for start-up, spawning workers and writing the reports.
GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Profile:
    description: str
    users: int
    run_time: str

    @staticmethod
    def path(name: str) -> Path:
        return PROFILE_DIR / f"{name}.py"


PROFILES = {
    "steady": Profile("one non-streamed chat a second per user", 10, "1m"),
    "ramp": Profile("users grow linearly from 1 to --users over the run", 20, "2m"),
    "burst": Profile("back-to-back chats on tier 0: crosses 50 a minute at once", 10, "30s"),
    "streaming": Profile("one stream every 2 s per user; TTFT, inter-token, tokens/s, completion", 10, "1m"),
    "async_jobs": Profile("create a deep-research job every 5 s per user, poll it to the end", 5, "2m"),
    "search": Profile("two Search API queries a second per user", 10, "1m"),
    "soak": Profile("the application mix, one task every 4 s per user, for a long run", 10, "10m"),
    "application": Profile("chat 5 : stream 3 : search 2 : async job 1", 10, "2m"),
    "raw": Profile("the burst through plain httpx (no pacing, no retries): the baseline", 10, "30s"),
}


def seconds(timespan: str) -> float:
    """`20s`, `1m30s`, `2h`, or a bare number of seconds: what Locust's `--run-time` takes, of at least 1 s.

    Raises:
        ValueError: Locust would refuse it (`1.5`, `abc`), or it is 0, which Locust reads as no limit.
    """
    if re.fullmatch(r"\d+", timespan):
        total = float(timespan)
    else:
        parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", timespan)
        if not parts or not any(parts.groups()):
            raise ValueError(f"not a run time: {timespan!r} (use 20s, 1m30s, 2h)")
        hours, minutes, secs = (int(p or 0) for p in parts.groups())
        total = hours * 3600.0 + minutes * 60.0 + secs
    if total < 1:
        raise ValueError(f"not a run time: {timespan!r} (at least 1s)")
    return total


def locust_command(name: str, *, users: int, spawn_rate: float, run_time: str, out: Path) -> list[str]:
    """The headless Locust command for a profile (a master adds its own options)."""
    return [
        sys.executable, "-m", "locust", "-f", str(Profile.path(name)), "--headless",
        "-u", str(users), "-r", f"{spawn_rate:g}", "-t", run_time,
        "--csv", str(out), "--html", f"{out}.html",
        # Failures are the measurement here, not a reason to fail the command.
        "--exit-code-on-error", "0",
    ]  # fmt: skip


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    name: str,
    *,
    users: int | None = None,
    spawn_rate: float | None = None,
    run_time: str | None = None,
    out: Path | None = None,
    workers: int = 0,
    stdout: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run profile `name`, print its summary and return Locust's exit code.

    Args:
        workers: 0 runs one local process; N runs a master and N workers on 127.0.0.1.
        env: Variables set for this run only (`PPLX_LOAD_TIER`, ...), over the process's own.

    Raises:
        ValueError: A bad run time or `PPLX_LOAD_*` value, found before Locust starts.
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; one of: {', '.join(PROFILES)}")
    profile = PROFILES[name]
    users = users or profile.users
    run_time = run_time or profile.run_time
    environ = {**os.environ, **(env or {})}
    # Checked before Locust starts: each user would otherwise fail on them only once the run is under way.
    run_seconds = seconds(run_time)
    settings = LoadSettings.from_env(environ=environ)
    out = out or Path("reports") / name
    out.parent.mkdir(parents=True, exist_ok=True)
    print_ = stdout or sys.stdout
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    command = locust_command(name, users=users, spawn_rate=spawn_rate or users, run_time=run_time, out=out)
    # A master waits only 0.5 s for its workers' last stats, so workers must stop at once to be counted;
    # alone, users get 2 s to finish the call in hand.
    command += ["--stop-timeout", "0" if workers else "2"]
    timeout = run_seconds + GRACE_SECONDS
    logs = [Path(f"{out}_locust.log")]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if workers:
            port = free_port()
            command += ["--master", "--expect-workers", str(workers), "--expect-workers-max-wait", "30",
                        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]  # fmt: skip
            for index in range(workers):
                worker_log = Path(f"{out}_worker{index}.log")
                logs.append(worker_log)
                worker = [sys.executable, "-m", "locust", "-f", str(Profile.path(name)), "--worker",
                          "--master-host", "127.0.0.1", "--master-port", str(port)]  # fmt: skip
                procs.append(_start(worker, environ, worker_log))
        master = _start(command, environ, logs[0])
        procs.insert(0, master)
        code = master.wait(timeout=timeout)
        for worker_proc in procs[1:]:
            worker_proc.wait(timeout=15)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"profile {name}: {users} users, {run_time}, {workers or 'no'} workers, {settings.base_url}", file=print_)
    if Path(f"{out}_stats.csv").exists():
        print(read_summary(out).render(run_seconds), file=print_)
    if code != 0:
        print(f"locust exited with {code}; its log: {logs[0]}", file=print_)
        print("\n".join(logs[0].read_text(encoding="utf-8", errors="replace").splitlines()[-20:]), file=print_)
    print(f"reports: {out}_stats.csv, {out}_failures.csv, {out}.html; log {logs[0]}", file=print_)
    return code


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
