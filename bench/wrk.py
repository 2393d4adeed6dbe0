"""wrk for `bench/run.py`: finding it, the Lua scripts it runs, and the summary they print.

wrk cannot send a POST body from its command line, stop after a number of requests or print its
figures as data, so every load is a Lua script written to the run's temporary directory.
`lua_script` sends one request over and over; `fill_script` ages a mock with requests from
`AGED_KEYS` keys in turn and, after a given number of answers, leaves a flag file on which
`run_wrk_until` interrupts wrk. Both end with the same `done`, which prints the summary as one JSON
line after `RESULT_MARK`, read back by `parse_run`. Kept apart so that `bench/run.py` is about the
servers and what is measured, and so that the scripts can be tested without starting either.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bare_app
from report import Run

RESULT_MARK = "BENCH-RESULT "
AGED_KEYS = 10_000
# No `-tier{N}` part in the name: every key is on the default tier (tiers.py).
AGED_KEY_PREFIX = "pplx-bench-"
# Longest a fill may take (seconds), far beyond what 110,000 requests need.
FILL_LIMIT_S = 600
DONE_TEMPLATE = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "socket_errors": %%d, "non2xx": %%d, '
      .. '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""
LUA_TEMPLATE = (
    """\
local f = assert(io.open(%(body)s, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"

"""
    + DONE_TEMPLATE
)
FILL_LUA_TEMPLATE = (
    """\
local f = assert(io.open(%(body)s, "rb"))
local body = f:read("*a")
f:close()
local headers = {["Content-Type"] = "application/json"}
local keys, count, sent, answered = %(keys)d, %(count)d, 0, 0

-- The keys in turn, round and round: each gets its bucket and its share of the journal.
request = function()
  headers["Authorization"] = string.format("Bearer %(prefix)s%%05d", sent %% keys)
  sent = sent + 1
  return wrk.format("POST", nil, headers, body)
end

-- wrk has no request count: after `count` answers the thread stops sending and leaves a flag file,
-- and bench/run.py interrupts wrk, whose main thread would otherwise sleep out its -d.
response = function(status, response_headers, response_body)
  answered = answered + 1
  if answered == count then
    assert(io.open(%(flag)s, "w")):close()
    wrk.thread:stop()
  end
end

"""
    + DONE_TEMPLATE
)


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


def lua_script(tmp: Path, name: str, request: dict[str, Any]) -> Path:
    body = tmp / f"{name}.json"
    body.write_text(json.dumps(request))
    script = tmp / f"{name}.lua"
    script.write_text(LUA_TEMPLATE % {"body": json.dumps(str(body)), "key": bare_app.API_KEY, "mark": RESULT_MARK})
    return script


def bench_key(index: int) -> str:
    """The aged mock's `index`th key, as the fill script writes it."""
    return f"{AGED_KEY_PREFIX}{index:05d}"


def fill_script(tmp: Path, count: int, keys: int = AGED_KEYS) -> tuple[Path, Path]:
    """A wrk script that sends JSON_REQUEST with `keys` keys in turn until `count` answers; and its flag file."""
    body = tmp / "fill.json"
    body.write_text(json.dumps(bare_app.JSON_REQUEST))
    flag = tmp / f"fill-{count}.done"
    flag.unlink(missing_ok=True)
    script = tmp / f"fill-{count}.lua"
    values = {"body": json.dumps(str(body)), "flag": json.dumps(str(flag)), "mark": RESULT_MARK}
    script.write_text(FILL_LUA_TEMPLATE % {**values, "keys": keys, "count": count, "prefix": AGED_KEY_PREFIX})
    return script, flag


def wrk_command(wrk: str, pin: list[str], script: Path, url: str, connections: int, seconds: float) -> list[str]:
    return [
        *pin,
        *[wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency"],
        *["-s", str(script), url + "/chat/completions"],
    ]


def parse_run(output: str) -> Run:
    line = next((line for line in output.splitlines() if line.startswith(RESULT_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    return Run(**json.loads(line[len(RESULT_MARK) :]))


def run_wrk(wrk: str, pin: list[str], script: Path, url: str, connections: int, seconds: float) -> Run:
    command = wrk_command(wrk, pin, script, url, connections, seconds)
    return parse_run(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def run_wrk_until(wrk: str, pin: list[str], script: Path, flag: Path, url: str, connections: int) -> Run:
    """Run a fill script until it leaves its flag file, then interrupt wrk (it prints its summary on SIGINT)."""
    command = wrk_command(wrk, pin, script, url, connections, FILL_LIMIT_S + 10)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + FILL_LIMIT_S
    while not flag.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    output, errors = process.communicate(timeout=60)
    if not flag.exists():
        raise RuntimeError(f"wrk did not finish its fill within {FILL_LIMIT_S} s:\n{output}{errors}")
    return parse_run(output)
