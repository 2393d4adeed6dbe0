"""Many paced streams at once on one mock process: chunk lateness and memory per open stream.

    python bench/streams.py [--streams 10000] [--tokens-per-second 30] [--max-tokens 200]
                            [--ramp 10] [--duration 20] [--target both] [--quick] [--check]

Starts the mock as its own uvicorn process on loopback, pinned to one core with `taskset`
(`--server-cpu`, default 1), with rate limits off and the time scale that gives sonar
`--tokens-per-second` (sonar's 90 tokens/s and 0.8 s to the first token, both multiplied by the
scale: 30 tokens/s is time scale 3, first token after 2.4 s). It is started with
`uvicorn.run(create_app(settings), backlog=…)` rather than `pplx-mock serve`, whose backlog is
uvicorn's 2048, and with its open-files limit raised to the hard limit.

`--target both` (the default; `--quick` defaults to `mock`) first runs the same load, with the
same client and pinning, against `bench/bare_app.py` in its paced mode: the physical limit of
this stack. It is started the same way, answers with the very frames the mock sends for the
benchmark's request (captured from the mock built in-process, passed in `BENCH_PAYLOADS`) at the
mock's schedule (`BENCH_FIRST_TOKEN`, `BENCH_PER_TOKEN`), one `send` per frame after an
`asyncio.sleep`, and nothing else. The columns are then bare | mock, and the pass column judges
the mock.

This process is the client, pinned to another core (`--client-cpu`, default 0): `--streams`
keep-alive connections, opened evenly over `--ramp` seconds, each sending a streamed sonar
completion (`"stream": true`, `"disable_search": true` so that a chunk carries no search results,
`max_tokens`) and, when it ends, the next, until `--duration` seconds after the ramp: so
`--streams` streams stay open through the measured time however long one lasts. See
`bench/stream_client.py` for the reader and how lateness is counted. Printed, with the targets
side by side:

- streams started, completed, and failed or cut short by `--timeout`; the peak of streams open at
  once, as the server reports them (`open_streams` of `GET /healthz`, sampled every 0.25 s) and as the
  client counts them; streams started and chunks received per second while all are open;
- every chunk's lateness against its schedule (p50, p99, max; streams cut short count too), the
  first chunks' alone, and the client's own loop lag and both processes' CPU use (if the client
  lags, it was the bottleneck, not the mock);
- the server's CPU per chunk and resident memory: idle after start-up (VmRSS), with the most streams
  open, after they all closed, the peak (VmHWM), and memory per open stream = (open - idle) / open.

Targets (issue 7): all `--streams` open at once in the mock, none failed or cut short, chunk
lateness p99 ≤ 50 ms, peak resident memory < 1 GiB. `--check` exits with status 1 when one is
missed. `--quick` is a smoke run (50 streams of 20 tokens, about 8 s a target): it checks that the
benchmark works, not figures. For the largest count a server keeps on schedule, run it with
several `--streams`. The whole run stops by itself (`--timeout`). Needs Linux (`/proc`, `taskset`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bare_app
from stream_client import LoopLag, Schedule, Tally, connect, http_request
from stream_report import Result, describe, render

from mock_server.catalog import MODELS

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
API_KEY = "pplx-bench"
MODEL = "sonar"
# A question whose synthesized answer is longer than 200 tokens, so that `max_tokens` sets the length.
QUESTION = "Write a long overview of the history of the printing press"
# The mock as `pplx-mock serve` builds it, with a larger accept queue (capped by net.core.somaxconn).
SERVE = """\
import sys, uvicorn
from mock_server.app import create_app
from mock_server.serving import uvicorn_options
from mock_server.settings import load_settings
port, scale, backlog, loop, http = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
flags = {"port": port, "time_scale": scale, "rate_limits": "off", "log_level": "warning", "loop": loop, "http": http}
settings = load_settings(flags, environ={})
uvicorn.run(create_app(settings), **uvicorn_options(settings), backlog=backlog)
"""
# The bare app, paced by BENCH_FIRST_TOKEN and BENCH_PER_TOKEN, with the frames in BENCH_PAYLOADS.
SERVE_BARE = """\
import sys, uvicorn
sys.path.insert(0, "bench")
import bare_app
port, backlog = int(sys.argv[1]), int(sys.argv[3])
options = {**bare_app.UVICORN_OPTIONS, "loop": sys.argv[4], "http": sys.argv[5]}
uvicorn.run(bare_app.create_app(), host="127.0.0.1", port=port, log_level="warning", backlog=backlog, **options)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000, help="streams open at once (default 10000)")
    parser.add_argument("--tokens-per-second", type=float, default=30, help="each stream's pace (default 30)")
    parser.add_argument("--max-tokens", type=int, default=200, help="content chunks per stream (default 200)")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which connections open (default 10)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load after the ramp (default 20)")
    parser.add_argument(
        "--timeout", type=float, help="hard limit of the whole load (default: its planned length + 30 s)"
    )
    parser.add_argument("--quick", action="store_true", help="50 streams of 20 tokens: a smoke run, not figures")
    parser.add_argument("--server-cpu", type=int, default=1, help="core the server is pinned to (default 1)")
    parser.add_argument("--client-cpu", type=int, default=0, help="core this client is pinned to (default 0)")
    parser.add_argument(
        "--target", choices=["mock", "bare", "both"], help="server(s) to load (default both; with --quick, mock)"
    )
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    bare_app.add_stack_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.streams, args.max_tokens, args.ramp, args.duration = 50, 20, 0.5, 3.0
    target = args.target or ("mock" if args.quick else "both")
    targets = ["bare", "mock"] if target == "both" else [target]
    spec = MODELS[MODEL]
    args.time_scale = spec.tokens_per_second / args.tokens_per_second
    schedule = Schedule(spec.time_to_first_token * args.time_scale, 1 / args.tokens_per_second, args.max_tokens)
    stream_seconds = schedule.offset(args.max_tokens, args.max_tokens)
    if args.timeout is None:
        args.timeout = args.ramp + args.duration + stream_seconds + 30
    pin = pinning(args.server_cpu, args.client_cpu)
    raise_open_files_limit()
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as payloads:
        if "bare" in targets:
            # The mock's frames for the benchmark's request; the mock's own schedule.
            request = stream_request(args.max_tokens)
            bare_app.capture({**request, "stream": False}, request).save(Path(payloads))
            args.bare_env = {
                bare_app.PAYLOADS_ENV: payloads,
                bare_app.FIRST_TOKEN_ENV: repr(schedule.ttft),
                bare_app.PER_TOKEN_ENV: repr(schedule.per_token),
            }
        for name in targets:
            results[name] = measure(args, pin, name, schedule)
    print(describe(args, pin, results, MODEL))
    print()
    table, passed = render(results, args)
    print(table)
    return 1 if args.check and not passed else 0


def measure(args: argparse.Namespace, pin: list[str], target: str, schedule: Schedule) -> Result:
    load_average = os.getloadavg()
    with serving(args, pin, target) as server:
        idle = server.memory()
        if pin:
            os.sched_setaffinity(0, {args.client_cpu})
        result = asyncio.run(run_load(args, server, schedule))
        result.idle_kib = idle["VmRSS"]
        time.sleep(0.5)
        result.after_kib = server.memory()["VmRSS"]
        result.hwm_kib = server.memory()["VmHWM"]
    result.load_average = (load_average[0], os.getloadavg()[0])
    return result


# --- the server --------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM in KiB."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        # utime and stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised name).
        stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def pinning(server_cpu: int, client_cpu: int) -> list[str]:
    """The `taskset` prefix for the server; empty (with a warning) when pinning is impossible."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if not shutil.which("taskset") or server_cpu == client_cpu or not {server_cpu, client_cpu} <= cpus:
        print(
            f"bench: cannot pin the server to core {server_cpu} and the client to {client_cpu}: unpinned",
            file=sys.stderr,
        )
        return []
    return ["taskset", "-c", str(server_cpu)]


def raise_open_files_limit() -> None:
    # One socket per stream on each side; the usual soft limit is 1024.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(args: argparse.Namespace, pin: list[str], target: str) -> Iterator[Server]:
    port = free_port()
    backlog = max(2048, args.streams)
    script = SERVE_BARE if target == "bare" else SERVE
    command = [*pin, sys.executable, "-c", script, str(port), repr(args.time_scale), str(backlog), args.loop, args.http]
    # A developer's own MOCK_* and BENCH_* settings must not change what is measured.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MOCK_", "BENCH_"))}
    if target == "bare":
        env.update(args.bare_env)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr, preexec_fn=raise_open_files_limit
    )
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {target} server did not start (status {process.poll()})")
            time.sleep(0.1)
        warm_up(port, args.max_tokens)
        time.sleep(0.5)
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def healthy(port: int) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as answer:
        return bool(answer.status == 200)
    return False


def warm_up(port: int, max_tokens: int) -> None:
    # The first request pays for lazy imports and plans the answer (then cached): not what is measured.
    body = json.dumps(stream_request(max_tokens)).encode()
    with socket.create_connection((HOST, port), timeout=30) as sock:
        sock.sendall(http_request(HOST, port, body, API_KEY))
        if not sock.recv(4096).startswith(b"HTTP/1.1 200 "):
            raise RuntimeError("the server refused the benchmark's request")


def stream_request(max_tokens: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "disable_search": True,
        "max_tokens": max_tokens,
    }


# --- the load ----------------------------------------------------------------------------------


async def run_load(args: argparse.Namespace, server: Server, schedule: Schedule) -> Result:
    raw = http_request(HOST, server.port, json.dumps(stream_request(args.max_tokens)).encode(), API_KEY)
    tally = Tally(schedule)
    result = Result(tally, array("d"))
    lag = LoopLag()
    lag_task = asyncio.create_task(lag.run())
    began = time.monotonic()
    stop_at = began + args.ramp + args.duration
    sampler = asyncio.create_task(sample(server, began, result.samples))
    connections: list[asyncio.Task[asyncio.Future[None]]] = []
    for index in range(args.streams):
        await asyncio.sleep(max(0.0, began + index * args.ramp / args.streams - time.monotonic()))
        connections.append(asyncio.create_task(connect(HOST, server.port, tally, raw, stop_at, 10)))
    # The measured window: all connections open, until the first ones stop.
    await asyncio.sleep(max(0.0, began + args.ramp - time.monotonic()))
    cpu_before, client_before, window_began = server.cpu_seconds(), time.process_time(), time.monotonic()
    events_before, started_before = tally.events, tally.started
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    window = time.monotonic() - window_began
    result.cpu_share = (server.cpu_seconds() - cpu_before) / window
    result.client_cpu_share = (time.process_time() - client_before) / window
    result.chunks_per_second = (tally.events - events_before) / window
    result.requests_per_second = (tally.started - started_before) / window
    closed = [await task for task in connections]
    try:
        async with asyncio.timeout(max(1.0, began + args.timeout - time.monotonic())):
            await asyncio.gather(*closed)
    except TimeoutError:
        result.timed_out = sum(not future.done() for future in closed)
    # Stopped before the unfinished streams are counted, which takes the loop a while.
    for task in (sampler, lag_task):
        task.cancel()
    now = time.monotonic()
    for connection in list(tally.live):
        connection.censor(now)
    result.lag = lag.lags
    return result


async def sample(server: Server, began: float, samples: list[tuple[float, int, int]]) -> None:
    """The server's own count of open streams, with its resident memory at that moment."""
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        while True:
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
            )
            health = json.loads(await reader.readexactly(length))
            samples.append((time.monotonic() - began, health["open_streams"], server.memory()["VmRSS"]))
            await asyncio.sleep(0.25)
    finally:
        writer.close()


if __name__ == "__main__":
    sys.exit(main())
