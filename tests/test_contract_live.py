"""The contract suite against a base URL (`--target`): a second mock on a loopback socket stands in
for the paid API. Each run is a `pytest contract` subprocess, so its options and module state are
its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract import live
from contract.prices import estimate_cost, reported_cost
from contract.spec import load_spec
from tests.conftest import LiveServer, free_port, make_app

ROOT = Path(__file__).resolve().parent.parent


def run_contract(*options: str, key: str | None = "pplx-live-contract") -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PERPLEXITY_", "MOCK_"))}
    if key is not None:
        env["PERPLEXITY_API_KEY"] = key
    command = [sys.executable, "-m", "pytest", "contract", "-p", "no:cacheprovider", "-q", "-rs", *options]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def second_mock() -> Iterator[LiveServer]:
    with LiveServer(make_app(rate_limits="off")) as server:
        yield server


def test_the_suite_runs_against_a_base_url_within_its_budget(second_mock: LiveServer) -> None:
    result = run_contract("--target", second_mock.base_url, "--live-examples", "2", "--max-cost", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " failed" not in result.stdout
    assert "live contract run: async jobs run deep research" in result.stdout
    assert "streams only sonar" in result.stdout
    assert "billed calls, $0.0" in result.stdout


def test_a_small_budget_stops_the_run_before_it_is_exceeded(second_mock: LiveServer) -> None:
    result = run_contract("--target", second_mock.base_url, "--live-examples", "2", "--max-cost", "0.012")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "budget reached" in result.stdout
    (spent,) = [line for line in result.stdout.splitlines() if "billed calls" in line]
    assert float(spent.split("$")[1].split()[0]) <= 0.012


def test_without_a_key_the_live_run_skips_with_one_line(second_mock: LiveServer) -> None:
    result = run_contract("--target", second_mock.base_url, key=None)
    assert result.returncode == 0, result.stdout[-3000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    assert "set PERPLEXITY_API_KEY" in skipped[0]


def test_a_dry_run_prints_the_plan_and_sends_nothing() -> None:
    # Nothing listens on the port: any request would fail the run.
    result = run_contract("--target", f"http://127.0.0.1:{free_port()}", "--dry-run")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "dry run: nothing sent" in result.stdout
    assert "POST /search" in result.stdout and "estimated at most $" in result.stdout
    assert "skipped: needs --allow-expensive" in result.stdout


def operation_of(path: str, templates: list[str]) -> str:
    """The spec path a requested path is an instance of (a parameter may hold anything, even `/`)."""
    for template in templates:
        pattern = re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(template))
        if re.fullmatch(pattern, path, flags=re.DOTALL):
            return template
    raise AssertionError(f"{path!r} is none of the spec's paths")


@pytest.mark.parametrize("expensive", [False, True], ids=["default", "allow-expensive"])
def test_the_dry_run_plan_covers_every_call_a_live_run_sends(expensive: bool) -> None:
    """The plan is written beside the suite, not derived from it: this is what keeps the two together."""
    options = ["--live-examples", "2", "--max-cost", "20", *(["--allow-expensive"] if expensive else [])]
    with LiveServer(make_app(rate_limits="off", journal_size=10_000)) as target:
        result = run_contract("--target", target.base_url, *options)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        sent = target.app.state.mock.journal.entries("")
    spec = load_spec()
    run = live.LiveRun(base_url="http://x", max_examples=2, max_cost=20, allow_expensive=expensive)
    planned, planned_401 = Counter[str](), Counter[str]()
    for call in live.plan(spec, run):
        (planned_401 if call.test == "no key" else planned)[call.label] += call.calls
    templates = sorted(spec["paths"], key=len, reverse=True)
    got, got_401 = Counter[str](), Counter[str]()
    for entry in sent:
        label = f"{entry.method} {operation_of(entry.path, templates)}"
        (got_401 if entry.status == 401 else got)[label] += 1
    assert got_401 == planned_401
    assert {label: count for label, count in got.items() if count > planned[label]} == {}
    assert any(label.startswith("POST /async") for label in got) is expensive


def test_the_plan_prices_the_cheapest_model_and_excludes_deep_research_by_default() -> None:
    spec: dict[str, Any] = {"paths": {"/chat/completions": {"post": {}}, "/async/chat/completions": {"post": {}}}}
    planned = live.plan(spec, live.LiveRun(base_url="http://x", max_examples=5))
    generated = {call.label: call for call in planned if call.test == "generated"}
    assert generated["POST /async/chat/completions"].calls == 0
    assert generated["POST /chat/completions"].calls == 5
    # sonar, 16 tokens out, low context: the $5 / 1000 request fee and a few token cents.
    assert 0.005 < generated["POST /chat/completions"].cost_each < 0.0051
    expensive = live.plan(spec, live.LiveRun(base_url="http://x", allow_expensive=True))
    assert all(call.calls for call in expensive if "async" in call.label and call.test != "no key")


def test_cheapen_and_cost_helpers() -> None:
    body = live.cheapen("/chat/completions", {"model": "sonar-pro", "messages": [], "max_tokens": 5000})
    assert body["model"] == "sonar" and body["max_tokens"] == live.LIVE_MAX_TOKENS
    assert live.cheapen("/search", {"query": "x"}) == {"query": "x"}
    assert estimate_cost("GET", "/async/chat/completions", None) == 0
    assert estimate_cost("POST", "/search", {"query": "x"}) == 0.005
    assert reported_cost({"usage": {"cost": {"total_cost": 0.01489}}}) == 0.01489
    assert reported_cost({"usage": None}) is None


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"Retry-After": "2"}, 2.0), ({"retry-after-ms": "250"}, 0.25), ({}, 1.0), ({"Retry-After": "9999"}, 60.0)],
)
def test_a_429_is_waited_out_for_its_retry_after(headers: dict[str, str], wait: float) -> None:
    assert live.retry_wait(headers) == wait
