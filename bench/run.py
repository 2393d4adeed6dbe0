"""The mock's own speed, side by side with the physical limit of its stack, in one run.

    python bench/run.py [--duration 5] [--connections 64] [--runs 3] [--warmup 2] [--quick] [--check]

Starts two uvicorn processes on loopback, each pinned to the same core with `taskset`:

- the mock, `python -m mock_server serve --time-scale 0 --log-level warning`, with every feature
  on: auth, validation, fixture lookup, the journal, and rate limiting with a limits file so large
  that nothing is refused but the limiter still runs (default tier 5);
- `bench/bare_app.py`, a bare Starlette app answering with the very bytes the mock sent for the
  same requests (captured from the running mock at start-up).

`wrk`, pinned to another core, loads each in turn (a Lua script sends the POST body and prints
its summary): after a warm-up, `--runs` runs of `--duration` seconds alternate between the two
servers, and the median of the runs is reported. The table compares them with the targets:

- non-streamed completion: requests/s at `--connections` ≥ 0.7× bare, p99 there ≤ 2× bare, p50
  with one connection ≤ 1.4× bare;
- streamed completion (sonar, `max_tokens` 50: 50 content chunks and a finishing chunk): chunks/s
  at `--connections` ≥ 0.6× bare;
- the mock's idle resident memory after start-up and warm-up (VmRSS) ≤ 80 MiB.

`--check` exits with status 1 when a target is missed. Needs Linux (`/proc`, `taskset`) and `wrk`,
which is installed with `apt-get install -y wrk` when missing and running as root.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import bare_app

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULT_MARK = "BENCH-RESULT "
# Large enough that nothing is ever refused, so the limiter does its whole job on every request.
LIMITS_TOML = """\
extends = "rl-v3"
[limits.sonar]
requests = 1000000000
period = 1
"""
LUA_TEMPLATE = """\
local f = assert(io.open(%(body)s, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "socket_errors": %%d, "non2xx": %%d, '
      .. '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


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


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.runs, args.warmup = 2.0, 1, 1.0
    wrk = ensure_wrk()
    pin = pinning(args.server_cpu, args.wrk_cpu)
    with tempfile.TemporaryDirectory(prefix="pplx-bench-") as tmp:
        results = benchmark(args, wrk, pin, Path(tmp))
    print(describe_machine(args, wrk, pin))
    print()
    table, passed = render(results, args.connections)
    print(table)
    return 1 if args.check and not passed else 0


# --- setup -------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
            subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "bench: wrk is needed and not installed. Debian/Ubuntu: `sudo apt-get install wrk`; "
        "macOS: `brew install wrk` (no taskset there: runs are unpinned); or build it from its repository."
    )


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


@contextlib.contextmanager
def servers(pin: dict[str, list[str]], tmp: Path) -> Iterator[tuple[Server, Server, bare_app.Payloads]]:
    limits = tmp / "limits.toml"
    limits.write_text(LIMITS_TOML)
    mock_port, bare_port = free_port(), free_port()
    mock_cmd = [
        *pin["server"],
        *[sys.executable, "-m", "mock_server", "serve", "--time-scale", "0", "--log-level", "warning"],
        *["--port", str(mock_port), "--rate-limits", str(limits), "--default-tier", "5"],
    ]
    mock = start("mock", mock_cmd, clean_env(), mock_port, tmp / "mock.log")
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


# --- measuring ---------------------------------------------------------------------------------


def lua_script(tmp: Path, name: str, request: dict[str, Any]) -> Path:
    body = tmp / f"{name}.json"
    body.write_text(json.dumps(request))
    script = tmp / f"{name}.lua"
    script.write_text(LUA_TEMPLATE % {"body": json.dumps(str(body)), "key": bare_app.API_KEY, "mark": RESULT_MARK})
    return script


def run_wrk(wrk: str, pin: list[str], script: Path, url: str, connections: int, seconds: float) -> Run:
    command = [
        *pin,
        *[wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency"],
        *["-s", str(script), url + "/chat/completions"],
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith(RESULT_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    return Run(**json.loads(line[len(RESULT_MARK) :]))


@dataclass
class Results:
    # scenario -> server name -> runs
    runs: dict[str, dict[str, list[Run]]]
    rss_mib: dict[str, float]
    peak_rss_mib: dict[str, float]
    chunks_per_stream: int


def benchmark(args: argparse.Namespace, wrk: str, pin: dict[str, list[str]], tmp: Path) -> Results:
    scenarios = {
        "json": (lua_script(tmp, "json", bare_app.JSON_REQUEST), args.connections),
        "json1": (lua_script(tmp, "json", bare_app.JSON_REQUEST), 1),
        "sse": (lua_script(tmp, "sse", bare_app.STREAM_REQUEST), args.connections),
    }
    runs: dict[str, dict[str, list[Run]]] = {name: {"bare": [], "mock": []} for name in scenarios}
    with servers(pin, tmp) as (mock, bare, payloads):
        both = (bare, mock)
        for server in both:
            for name in ("json", "sse"):
                script, connections = scenarios[name]
                print(f"bench: warm-up {server.name} {name} {args.warmup:g} s", file=sys.stderr)
                run_wrk(wrk, pin["wrk"], script, server.url, connections, args.warmup)
        time.sleep(0.5)
        rss = {server.name: server.rss_mib() for server in both}
        for name, (script, connections) in scenarios.items():
            for index in range(args.runs):
                # Alternating servers spreads any drift of the machine over both.
                for server in both if index % 2 == 0 else both[::-1]:
                    run = run_wrk(wrk, pin["wrk"], script, server.url, connections, args.duration)
                    runs[name][server.name].append(run)
                    print(
                        f"bench: {name:5} {server.name:4} run {index + 1}: {run.rps:8.0f} req/s "
                        f"p50 {run.p50_us / 1000:6.2f} ms p99 {run.p99_us / 1000:6.2f} ms",
                        file=sys.stderr,
                    )
        peak = {server.name: server.rss_mib("VmHWM") for server in both}
    # Events before `data: [DONE]`: the content chunks and the finishing chunk.
    return Results(runs, rss, peak, len(payloads.frames) - 1)


# --- reporting ---------------------------------------------------------------------------------


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def render(results: Results, connections: int) -> tuple[str, bool]:
    json_c, json_1, sse = results.runs["json"], results.runs["json1"], results.runs["sse"]
    chunks = results.chunks_per_stream
    rows: list[tuple[str, float, float, str, str, bool | None]] = []

    def ratio_row(metric: str, bare: float, mock: float, fmt: str, bound: float | None, higher: bool) -> None:
        ratio = mock / bare
        if bound is None:
            rows.append((metric, bare, mock, fmt, "", None))
            return
        ok = ratio >= bound if higher else ratio <= bound
        rows.append((metric, bare, mock, fmt, f"{'≥' if higher else '≤'} {bound:g}×", ok))

    def ms(runs: list[Run], field: str) -> float:
        return median(runs, field) / 1000

    ratio_row(
        f"JSON req/s, {connections} conns",
        median(json_c["bare"], "rps"),
        median(json_c["mock"], "rps"),
        ".0f",
        0.7,
        True,
    )
    ratio_row(
        f"JSON p99 ms, {connections} conns",
        ms(json_c["bare"], "p99_us"),
        ms(json_c["mock"], "p99_us"),
        ".2f",
        2.0,
        False,
    )
    ratio_row(
        f"JSON p50 ms, {connections} conns",
        ms(json_c["bare"], "p50_us"),
        ms(json_c["mock"], "p50_us"),
        ".2f",
        None,
        False,
    )
    ratio_row("JSON p50 ms, 1 conn", ms(json_1["bare"], "p50_us"), ms(json_1["mock"], "p50_us"), ".2f", 1.4, False)
    ratio_row("JSON req/s, 1 conn", median(json_1["bare"], "rps"), median(json_1["mock"], "rps"), ".0f", None, True)
    ratio_row(
        f"SSE chunks/s, {connections} conns",
        median(sse["bare"], "rps") * chunks,
        median(sse["mock"], "rps") * chunks,
        ".0f",
        0.6,
        True,
    )
    ratio_row(
        f"SSE p99 ms, {connections} conns", ms(sse["bare"], "p99_us"), ms(sse["mock"], "p99_us"), ".2f", None, False
    )
    bare_rss, mock_rss = results.rss_mib["bare"], results.rss_mib["mock"]
    rows.append(("idle RSS MiB (VmRSS)", bare_rss, mock_rss, ".1f", "mock ≤ 80 MiB", mock_rss <= 80))
    rows.append(("peak RSS MiB (VmHWM)", results.peak_rss_mib["bare"], results.peak_rss_mib["mock"], ".1f", "", None))

    errors = [
        f"{scenario} {server}: {sum(r.socket_errors for r in runs)} socket errors, "
        f"{sum(r.non2xx for r in runs)} non-2xx answers"
        for scenario, by_server in results.runs.items()
        for server, runs in by_server.items()
        if any(r.socket_errors or r.non2xx for r in runs)
    ]
    lines = ["| metric | bare | mock | ratio | target | pass |", "|---|---:|---:|---:|---|---|"]
    for metric, bare, mock, fmt, target, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {metric} | {bare:{fmt}} | {mock:{fmt}} | {mock / bare:.2f}× | {target} | {verdict} |")
    lines += [f"\nbench: ERROR {line}" for line in errors]
    passed = not errors and all(ok is not False for *_, ok in rows)
    return "\n".join(lines), passed


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
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("starlette", "uvicorn", "anyio", "pydantic"))
    pinned = f"servers on core {args.server_cpu}, wrk on core {args.wrk_cpu}" if pin["server"] else "unpinned"
    return (
        f"{datetime.date.today().isoformat()}: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; "
        f"Python {platform.python_version()}, {versions}; {wrk_version.split(' [')[0]}, 1 thread; {pinned}; "
        f"median of {args.runs} × {args.duration:g} s after {args.warmup:g} s warm-up"
    )


if __name__ == "__main__":
    sys.exit(main())
