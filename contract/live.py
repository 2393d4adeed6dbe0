"""A contract run against a real base URL: its options, its spending cap and its dry-run plan.

`contract/conftest.py` builds one `LiveRun` from the pytest options (`--target`, `--dry-run`,
`--max-cost`, `--allow-expensive`, `--live-examples`) and `PERPLEXITY_API_KEY`, and registers it
with `configure` before the suite is collected; `contract/test_mock.py` reads it back with
`current()` to bound its example counts and to cheapen and cap what it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.prices import ASYNC_PATHS, CHAT_PATHS, estimate_cost

DEFAULT_MAX_COST = 0.05
DEFAULT_EXAMPLES = 5
# What every accepted chat request of a live run is turned into: the cheapest model, a short answer.
CHEAPEST_MODEL = "sonar"
LIVE_MAX_TOKENS = 16
# A 429 is waited out once, for at most this long (seconds), whatever Retry-After asks for.
MAX_RETRY_WAIT = 60.0
STREAM_MODES = ("full", "concise")
# The bad-credential variants of test_operation_requires_a_valid_key: answered 401, free.
BAD_KEY_VARIANTS = 5
SAMPLE_MESSAGES = [{"role": "user", "content": "What limits the energy density of lithium-ion cells?"}]


@dataclass
class Budget:
    """Money a live run may spend (USD), and what the API has billed so far."""

    max_cost: float
    spent: float = 0.0
    calls: int = 0

    def allows(self, estimate: float) -> bool:
        return self.spent + estimate <= self.max_cost

    def charge(self, cost: float) -> None:
        self.calls += 1
        self.spent += cost

    def exhausted_message(self, label: str, estimate: float) -> str:
        return (
            f"live contract run: budget reached, {label} not sent (spent ${self.spent:.5f} of "
            f"--max-cost ${self.max_cost:.5f}, next call up to ${estimate:.5f}); raise --max-cost to go on"
        )


@dataclass
class LiveRun:
    """The options of one contract run against a base URL (`base_url` None: the in-process mock)."""

    base_url: str | None = None
    api_key: str | None = None
    dry_run: bool = False
    max_cost: float = DEFAULT_MAX_COST
    allow_expensive: bool = False
    max_examples: int = DEFAULT_EXAMPLES
    budget: Budget = field(init=False)

    def __post_init__(self) -> None:
        self.budget = Budget(self.max_cost)

    @property
    def live(self) -> bool:
        return self.base_url is not None


_current = LiveRun()


def configure(run: LiveRun) -> None:
    global _current
    _current = run


def current() -> LiveRun:
    return _current


def is_expensive(method: str, path: str) -> bool:
    """Creating an async job runs deep research: dollars, not cents."""
    return method.upper() == "POST" and path in ASYNC_PATHS


def cheapen(path: str, body: Any) -> Any:
    """`body` with the cheapest model and a short answer, for a chat request the API would accept."""
    if path not in CHAT_PATHS or not isinstance(body, dict):
        return body
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 0 < max_tokens <= LIVE_MAX_TOKENS:
        max_tokens = LIVE_MAX_TOKENS
    return {**body, "model": CHEAPEST_MODEL, "max_tokens": max_tokens}


def retry_wait(headers: dict[str, str]) -> float:
    """Seconds to wait before retrying a 429: `Retry-After` (seconds), else `retry-after-ms`, else 1."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 0.001)):
        try:
            return min(max(float(lowered[name]) * scale, 0.0), MAX_RETRY_WAIT)
        except (KeyError, ValueError):
            continue
    return 1.0


@dataclass(frozen=True)
class PlannedCall:
    test: str
    label: str
    calls: int
    cost_each: float
    note: str = ""


def plan(spec: dict[str, Any], run: LiveRun) -> list[PlannedCall]:
    """The calls a live run of contract/test_mock.py makes, per test and operation, with an estimate each."""
    chat = cheapen(CHAT_PATHS[0], {"model": CHEAPEST_MODEL, "messages": SAMPLE_MESSAGES})
    planned: list[PlannedCall] = []
    operations = [
        (method.upper(), path)
        for path, item in spec.get("paths", {}).items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    for method, path in operations:
        label = f"{method} {path}"
        cost = estimate_cost(method, path, chat)
        if is_expensive(method, path) and not run.allow_expensive:
            planned.append(PlannedCall("generated", label, 0, cost, "skipped: needs --allow-expensive"))
        else:
            planned.append(PlannedCall("generated", label, run.max_examples, cost, "at most; invalid ones are free"))
        if path in CHAT_PATHS:
            planned.append(PlannedCall("streamed", label, len(STREAM_MODES), cost, f"{CHEAPEST_MODEL} only"))
        planned.append(PlannedCall("no key", label, BAD_KEY_VARIANTS, 0.0, "401, free"))
    jobs = [path for method, path in operations if is_expensive(method, path)]
    for path in jobs:
        cost = estimate_cost("POST", path, chat)
        if run.allow_expensive:
            planned.append(PlannedCall("job read back", f"POST {path}", 1, cost, "then read back, free"))
            planned += [PlannedCall("job read back", label, 1, 0.0, "free") for label in _reads_back(operations, path)]
        else:
            planned.append(PlannedCall("job read back", f"POST {path}", 0, cost, "skipped: needs --allow-expensive"))
    return planned


def _reads_back(operations: list[tuple[str, str]], collection: str) -> list[str]:
    """What test_a_created_job_can_be_read_back sends after creating a job in `collection`: a GET
    of the job by its id, and of the list."""
    return [
        f"{method} {path}"
        for method, path in operations
        if method == "GET" and (path == collection or _is_item_of(path, collection))
    ]


def _is_item_of(path: str, collection: str) -> bool:
    """`{collection}/{id}`, whatever the parameter is called."""
    rest = path.removeprefix(collection + "/")
    return rest != path and rest.startswith("{") and rest.endswith("}") and "/" not in rest


def render_plan(planned: list[PlannedCall], run: LiveRun) -> str:
    lines = [f"live contract run, dry run: nothing sent to {run.base_url or 'the in-process mock'}"]
    for call in planned:
        lines.append(
            f"  {call.test:<14} {call.label:<44} {call.calls:>3} x ${call.cost_each:.5f}"
            + (f"  ({call.note})" if call.note else "")
        )
    total = sum(call.calls * call.cost_each for call in planned)
    count = sum(call.calls for call in planned)
    lines.append(f"  {count} calls, estimated at most ${total:.5f}; the run stops at --max-cost ${run.max_cost:.5f}")
    return "\n".join(lines)
