"""Parity: the same scenario requests sent to two targets, answers compared field by field.

    python -m contract.parity --a inprocess --b http://127.0.0.1:8000 [--out DIR]

`inprocess` is the mock served in-process; a URL is called with the key in `PERPLEXITY_API_KEY`
(either side; the in-process mock takes any `pplx-` key). Each scenario is one fixed request (a
chat answer as JSON and as a stream, a search, invalid bodies, no key: `SCENARIOS`), sent once to
each side. What is compared, per scenario: the status, the content type, the stream framing, and
every field path of the JSON answer (`choices[].message.content`; a stream's chunks merged), each
`conforms` (same status or JSON type on both sides), `differs`, or `missing` (on one side only).
Writes `parity.md` and `parity.json` to `--out` (default: the working directory); a scenario
request to a paid API costs what one cheap `sonar` answer and one search cost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from contract import live
from contract.targets import MOCK_KEY, Target, in_process_mock, remote

IN_PROCESS = "inprocess"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
CHAT = {"model": live.CHEAPEST_MODEL, "messages": QUESTION, "max_tokens": live.LIVE_MAX_TOKENS}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    with_key: bool = True


SCENARIOS = (
    Scenario("chat-json", "POST", "/chat/completions", CHAT),
    Scenario("chat-stream", "POST", "/chat/completions", {**CHAT, "stream": True}),
    Scenario("search", "POST", "/search", {"query": "capital of France", "max_results": 3}),
    Scenario("chat-invalid-model", "POST", "/chat/completions", {**CHAT, "model": "no-such-model"}),
    Scenario("chat-no-messages", "POST", "/chat/completions", {"model": live.CHEAPEST_MODEL}),
    Scenario("search-invalid-body", "POST", "/search", {"max_results": 3}),
    Scenario("chat-missing-key", "POST", "/chat/completions", CHAT, with_key=False),
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def field_paths(value: Any, prefix: str = "") -> dict[str, str]:
    """Every field path in a JSON value with its type; array items merged under `[]`."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found.setdefault(path, json_type(child))
            found.update({k: v for k, v in field_paths(child, path).items() if k not in found})
    elif isinstance(value, list):
        for child in value:
            path = f"{prefix}[]"
            found.setdefault(path, json_type(child))
            found.update({k: v for k, v in field_paths(child, path).items() if k not in found})
    return found


def observe(target: Target, scenario: Scenario) -> dict[str, str]:
    """What one answer shows: `<status>`, `<content-type>`, `<stream>` and every field path."""
    headers = target.auth_headers() if scenario.with_key else {}
    response = target.session.request(
        scenario.method, target.base_url + scenario.path, json=scenario.body, headers=headers, timeout=120
    )
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    seen = {"<status>": str(response.status_code), "<content-type>": content_type}
    if content_type == "text/event-stream":
        events = [line.removeprefix("data:").strip() for line in response.text.splitlines() if line.startswith("data:")]
        seen["<stream>"] = "ends with [DONE]" if events and events[-1] == "[DONE]" else "no [DONE] at the end"
        for event in events:
            if event != "[DONE]":
                try:
                    seen.update({k: v for k, v in field_paths(json.loads(event)).items() if k not in seen})
                except ValueError:
                    seen["<stream>"] = "an event is not JSON"
    else:
        with contextlib.suppress(ValueError):
            seen.update(field_paths(response.json()))
    return seen


def compare(a: dict[str, str], b: dict[str, str]) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for path in sorted(a.keys() | b.keys()):
        left, right = a.get(path), b.get(path)
        verdict = "missing" if left is None or right is None else "conforms" if left == right else "differs"
        rows.append({"path": path, "a": left, "b": right, "verdict": verdict})
    return rows


@contextmanager
def open_target(spec: str) -> Iterator[Target]:
    if spec == IN_PROCESS:
        with in_process_mock() as target:
            yield target
        return
    key = os.environ.get("PERPLEXITY_API_KEY") or MOCK_KEY
    with remote(spec, key, live.Budget(max_cost=float("inf"))) as target:
        yield target


def run(a: str, b: str) -> dict[str, Any]:
    results: dict[str, Any] = {"a": a, "b": b, "scenarios": []}
    with open_target(a) as left, open_target(b) as right:
        for scenario in SCENARIOS:
            rows = compare(observe(left, scenario), observe(right, scenario))
            results["scenarios"].append(
                {"name": scenario.name, "operation": f"{scenario.method} {scenario.path}", "fields": rows}
            )
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Parity: a = {results['a']}, b = {results['b']}", ""]
    for scenario in results["scenarios"]:
        counts = {v: sum(row["verdict"] == v for row in scenario["fields"]) for v in ("conforms", "differs", "missing")}
        summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
        lines += [f"## {scenario['operation']}: {scenario['name']} ({summary})", "", "| field | a | b | verdict |"]
        lines.append("|---|---|---|---|")
        lines += [f"| `{r['path']}` | {r['a'] or '–'} | {r['b'] or '–'} | {r['verdict']} |" for r in scenario["fields"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.parity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", default=IN_PROCESS, help=f"base URL or `{IN_PROCESS}` (default)")
    parser.add_argument("--b", required=True, help=f"base URL or `{IN_PROCESS}`")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="directory for parity.md and parity.json")
    args = parser.parse_args(argv)
    try:
        results = run(args.a, args.b)
    except requests.RequestException as exc:
        parser.exit(2, f"parity: {exc}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "parity.md").write_text(markdown(results), encoding="utf-8")
    differing = sum(row["verdict"] != "conforms" for s in results["scenarios"] for row in s["fields"])
    print(f"parity: {differing} field paths differ or are missing; wrote {args.out / 'parity.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
