"""The mock's own speed, side by side with the physical limit of its stack, in one run.

    python bench/run.py [--duration 5] [--connections 64] [--runs 3] [--warmup 2] [--quick] [--check]
                        [--no-aged] [--output bench/RESULTS.md]

Starts uvicorn processes on loopback, each pinned to the same core with `taskset`:

- the mock, `python -m mock_server serve --time-scale 0 --log-level warning --journal-size 100000`,
  with every feature on: auth, validation, fixture lookup, the journal, and rate limiting with a
  limits file so large that nothing is refused but the limiter still runs (default tier 5). Its
  journal and buckets are emptied (`POST /_mock/reset`) before each measured run: it is the fresh mock;
- `bench/bare_app.py`, a bare Starlette app answering with the very bytes the mock sent for the
  same requests (captured from the running mock at start-up);
- unless `--no-aged`, the aged mock: the same command, first sent 110,000 requests by wrk cycling
  through 10,000 keys (`pplx-bench-00000` …, all on the default tier), so that its journal is full
  (100,000 entries) and has dropped 10,000, and it holds 10,000 keys' buckets; never reset.

`wrk`, pinned to another core, loads each in turn (a Lua script sends the POST body and prints
its summary): after a warm-up, `--runs` runs of `--duration` seconds alternate between the two
servers, and the median of the runs is reported. The table compares them with the targets:

- non-streamed completion: requests/s at `--connections` ≥ 0.7× bare, p99 there ≤ 2× bare, p50
  with one connection ≤ 1.4× bare;
- streamed completion (sonar, `max_tokens` 50: 50 content chunks and a finishing chunk): chunks/s
  at `--connections` ≥ 0.6× bare;
- the mock's idle resident memory after start-up and warm-up (VmRSS) ≤ 80 MiB;
- history (issue 7): the aged mock's JSON requests/s at `--connections` ≥ 0.9× the fresh mock's, in
  runs alternating with the others; its VmRSS grows by at most 2 MiB between 100,000 and 110,000
  requests (bounded memory). Its VmRSS is also read after the measured runs.

`--output FILE` also writes the tables as Markdown with the date, the machine, the command line and
the load average before and after. `--check` exits with status 1 when a target is missed. Needs
Linux (`/proc`, `taskset`) and `wrk`, which is installed with `apt-get install -y wrk` when missing
and running as root.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bare_app
from report import OVERFILL, History, Reading, Results, Run, describe_load, describe_machine, render, results_markdown
from wrk import AGED_KEYS, ensure_wrk, fill_script, lua_script, run_wrk, run_wrk_until

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Large enough that nothing is ever refused, so the limiter does its whole job on every request.
LIMITS_TOML = """\
extends = "rl-v3"
[limits.sonar]
requests = 1000000000
period = 1
"""
# Every mock runs with the journal size the aged one needs, so that fresh and aged differ only by history.
JOURNAL_SIZE = 100_000


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def rss_mib(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"{field} not found for pid {self.process.pid}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured run (default 5)")
    parser.add_argument("--connections", type=int, default=64, help="connections of the loaded runs (default 64)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per server and scenario (default 3)")
    parser.add_argument(
        "--warmup", type=float, default=2, help="seconds of warm-up per server and scenario (default 2)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="one 2 s run after a 1 s warm-up: a smoke run, not figures"
    )
    parser.add_argument("--server-cpu", type=int, default=1, help="core both servers are pinned to (default 1)")
    parser.add_argument("--wrk-cpu", type=int, default=0, help="core wrk is pinned to (default 0)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument(
        "--aged",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also measure a mock aged by {JOURNAL_SIZE + OVERFILL:,} requests from {AGED_KEYS:,} keys (default on)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="also write the results as Markdown to FILE")
    bare_app.add_stack_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.duration, args.runs, args.warmup = 2.0, 1, 1.0
    wrk = ensure_wrk()
    pin = pinning(args.server_cpu, args.wrk_cpu)
    started, load_before = datetime.datetime.now(datetime.UTC), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pplx-bench-") as tmp:
        results = benchmark(args, wrk, pin, Path(tmp))
    load = (load_before, os.getloadavg())
    machine = describe_machine(args, wrk, pin)
    tables, passed = render(results, args.connections)
    print(machine)
    print(f"load average (1, 5, 15 min): {describe_load(load)}")
    print()
    print(tables)
    if args.output:
        command = command_line(sys.argv[1:] if argv is None else argv)
        args.output.write_text(results_markdown(started, machine, command, load, tables), encoding="utf-8")
        print(f"\nbench: wrote {args.output}", file=sys.stderr)
    return 1 if args.check and not passed else 0


# --- setup -------------------------------------------------------------------------------------


def pinning(server_cpu: int, wrk_cpu: int) -> dict[str, list[str]]:
    """`taskset` prefixes for the servers and for wrk; empty (with a warning) when pinning is impossible."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if not shutil.which("taskset") or server_cpu == wrk_cpu or not {server_cpu, wrk_cpu} <= cpus:
        print(f"bench: cannot pin servers to core {server_cpu} and wrk to core {wrk_cpu}: unpinned", file=sys.stderr)
        return {"server": [], "wrk": []}
    return {"server": ["taskset", "-c", str(server_cpu)], "wrk": ["taskset", "-c", str(wrk_cpu)]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    # A developer's own MOCK_* settings must not change what is measured.
    env = {name: value for name, value in os.environ.items() if not name.startswith("MOCK_")}
    return {**env, **extra}


def start(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    # The servers' output goes to a file: when wrk stops, it closes connections in the middle of
    # streams, and asyncio logs a line for every write to them that follows.
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    server = Server(name, process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(server.url + "/healthz", timeout=1) as answer:
            if answer.status == 200:
                return server
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{name} did not answer /healthz within 30 s")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def post(url: str, payload: dict[str, Any]) -> bytes:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {bare_app.API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body: bytes = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url}: status {answer.status}: {body[:200]!r}")
        return body


def control(server: Server, path: str, payload: dict[str, Any] | None = None) -> Any:
    """GET (or with `payload`, POST) one of the mock's `/_mock/` routes; the decoded answer."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(server.url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def mock_command(pin: dict[str, list[str]], port: int, limits: Path, stack: list[str]) -> list[str]:
    return [
        *pin["server"],
        *[sys.executable, "-m", "mock_server", "serve", "--time-scale", "0", "--log-level", "warning"],
        *["--port", str(port), "--rate-limits", str(limits), "--default-tier", "5"],
        *["--journal-size", str(JOURNAL_SIZE), *stack],
    ]


def stack_flags(args: argparse.Namespace) -> list[str]:
    """uvicorn's event loop and HTTP parser, the same for every server of the run."""
    return ["--loop", args.loop, "--http", args.http]


@contextlib.contextmanager
def servers(
    pin: dict[str, list[str]], tmp: Path, stack: list[str]
) -> Iterator[tuple[Server, Server, bare_app.Payloads]]:
    limits = tmp / "limits.toml"
    limits.write_text(LIMITS_TOML)
    mock_port, bare_port = free_port(), free_port()
    mock = start("mock", mock_command(pin, mock_port, limits, stack), clean_env(), mock_port, tmp / "mock.log")
    try:
        payloads = bare_app.Payloads.from_sse(
            post(mock.url, bare_app.JSON_REQUEST), post(mock.url, bare_app.STREAM_REQUEST)
        )
        payload_dir = tmp / "payloads"
        payload_dir.mkdir()
        payloads.save(payload_dir)
        bare_cmd = [
            *pin["server"],
            *[sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(BENCH_DIR), "bare_app:create_app"],
            *["--host", "127.0.0.1", "--port", str(bare_port), "--log-level", "warning"],
            # bare_app.UVICORN_OPTIONS as flags: the mock's own, so that only the app differs.
            *["--no-access-log", "--no-proxy-headers", *stack],
        ]
        bare = start(
            "bare", bare_cmd, clean_env(**{bare_app.PAYLOADS_ENV: str(payload_dir)}), bare_port, tmp / "bare.log"
        )
        try:
            # The fairness check, live: both answer both requests with the same documents.
            for request in (bare_app.JSON_REQUEST, bare_app.STREAM_REQUEST):
                if bare_app.comparable(post(bare.url, request)) != bare_app.comparable(post(mock.url, request)):
                    raise RuntimeError(f"the bare app's answer differs from the mock's for {request}")
            yield mock, bare, payloads
        finally:
            stop(bare)
    finally:
        stop(mock)


@contextlib.contextmanager
def aged_server(
    wanted: bool, pin: dict[str, list[str]], tmp: Path, fresh: Server, stack: list[str]
) -> Iterator[Server | None]:
    """A third mock, started like the fresh one (not yet aged: see `age`), or None when not `wanted`."""
    if not wanted:
        yield None
        return
    port = free_port()
    aged = start("aged", mock_command(pin, port, tmp / "limits.toml", stack), clean_env(), port, tmp / "aged.log")
    try:
        for request in (bare_app.JSON_REQUEST, bare_app.STREAM_REQUEST):
            if bare_app.comparable(post(aged.url, request)) != bare_app.comparable(post(fresh.url, request)):
                raise RuntimeError(f"the aged mock's answer differs from the fresh one's for {request}")
        yield aged
    finally:
        stop(aged)


# --- measuring ---------------------------------------------------------------------------------


def journaled(server: Server) -> int:
    newest = control(server, "/_mock/requests?limit=1")["requests"]
    return int(newest[-1]["seq"]) if newest else 0


def reading(server: Server) -> Reading:
    time.sleep(0.5)
    return Reading(journaled(server), server.rss_mib())


def age(server: Server, wrk: str, pin: list[str], tmp: Path, connections: int) -> History:
    """Fill the journal of `server` with AGED_KEYS keys in turn, then OVERFILL requests more."""
    fills = [fill(server, wrk, pin, tmp, connections, JOURNAL_SIZE - journaled(server))]
    full = reading(server)
    # The newest 2 × AGED_KEYS entries hold every key, whatever order the connections' requests came in.
    # Keys are masked to their last 4 characters, which differ for every one of the 10,000 keys.
    newest = control(server, f"/_mock/requests?limit={2 * AGED_KEYS}")["requests"]
    keys = {entry["key"] for entry in newest}
    if len(keys) != AGED_KEYS or any(entry["status"] != 200 or entry["limit"] != "sonar" for entry in newest):
        raise RuntimeError(f"aging {server.name}: {len(keys)} keys in the newest entries, or a refused request")
    # The memory that listing left behind is not the journal's: growth is counted from here.
    checked = reading(server)
    fills.append(fill(server, wrk, pin, tmp, connections, OVERFILL))
    fill_rps = sum(run.requests for run in fills) / sum(run.duration_us / 1e6 for run in fills)
    return History(AGED_KEYS, JOURNAL_SIZE, full, checked, reading(server), fill_rps)


def fill(server: Server, wrk: str, pin: list[str], tmp: Path, connections: int, count: int) -> Run:
    script, flag = fill_script(tmp, count)
    print(f"bench: aging {server.name}: {count:,} requests from {AGED_KEYS:,} keys", file=sys.stderr)
    run = run_wrk_until(wrk, pin, script, flag, server.url, connections)
    if run.non2xx or run.socket_errors or run.requests < count:
        raise RuntimeError(f"aging {server.name}: {run}")
    return run


def benchmark(args: argparse.Namespace, wrk: str, pin: dict[str, list[str]], tmp: Path) -> Results:
    scenarios = {
        "json": (lua_script(tmp, "json", bare_app.JSON_REQUEST), args.connections),
        "json1": (lua_script(tmp, "json", bare_app.JSON_REQUEST), 1),
        "sse": (lua_script(tmp, "sse", bare_app.STREAM_REQUEST), args.connections),
    }
    # The aged mock is measured where issue 7 sets its target: non-streamed answers.
    aged_scenarios = ("json", "json1")
    runs: dict[str, dict[str, list[Run]]] = {name: {"bare": [], "mock": []} for name in scenarios}
    stack = stack_flags(args)
    with servers(pin, tmp, stack) as (mock, bare, payloads), aged_server(args.aged, pin, tmp, mock, stack) as aged:
        history = age(aged, wrk, pin["wrk"], tmp, args.connections) if aged else None
        both = (bare, mock)
        for server in both if aged is None else (*both, aged):
            for name in ("json", "sse") if server is not aged else aged_scenarios[:1]:
                script, connections = scenarios[name]
                print(f"bench: warm-up {server.name} {name} {args.warmup:g} s", file=sys.stderr)
                run_wrk(wrk, pin["wrk"], script, server.url, connections, args.warmup)
        # The fresh mock starts each run with an empty journal and no buckets: only the aged one has history.
        control(mock, "/_mock/reset", {"all": True})
        time.sleep(0.5)
        rss = {server.name: server.rss_mib() for server in both}
        for name, (script, connections) in scenarios.items():
            loaded = (*both, aged) if aged is not None and name in aged_scenarios else both
            for index in range(args.runs):
                # Alternating servers spreads any drift of the machine over them all.
                for server in loaded if index % 2 == 0 else loaded[::-1]:
                    if server is mock:
                        control(mock, "/_mock/reset", {"all": True})
                    run = run_wrk(wrk, pin["wrk"], script, server.url, connections, args.duration)
                    runs[name].setdefault(server.name, []).append(run)
                    print(
                        f"bench: {name:5} {server.name:4} run {index + 1}: {run.rps:8.0f} req/s "
                        f"p50 {run.p50_us / 1000:6.2f} ms p99 {run.p99_us / 1000:6.2f} ms",
                        file=sys.stderr,
                    )
        peak = {server.name: server.rss_mib("VmHWM") for server in both}
        if aged is not None and history is not None:
            history.after_runs = reading(aged)
            peak[aged.name] = aged.rss_mib("VmHWM")
    # Events before `data: [DONE]`: the content chunks and the finishing chunk.
    return Results(runs, rss, peak, len(payloads.frames) - 1, history)


# --- reporting ---------------------------------------------------------------------------------


def command_line(argv: list[str]) -> str:
    """How this run was started, with paths below the working directory made relative."""

    def shown(path: str) -> str:
        absolute = Path(path).absolute()
        return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else path

    return shlex.join([shown(sys.executable), shown(__file__), *argv])


if __name__ == "__main__":
    sys.exit(main())
