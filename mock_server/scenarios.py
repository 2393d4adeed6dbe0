"""Scripted faults per API key: "the 3rd call gets a 429, the 5th stream is cut after 4 chunks".

`POST /_mock/scenarios` gives a key's steps in the caller's namespace: `{"3": "<fault spec>"}`, or
a list whose n-th entry is for call n (`null` or `"none"` for a call that passes). Calls are
counted per (namespace, key) from the moment the scenario is set, every API request with that
bearer token counting once, an SDK's own retries included; calls after the last step pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mock_server.errors import quoted
from mock_server.faults import FaultPlan, FaultSpecError, parse_fault

# A scenario longer than this is a mistake, not a test.
MAX_STEP = 100_000
# ASCII digits: `str.isdigit` also takes "²", which `int()` refuses, and "٣", which it reads as 3.
CALL_NUMBER = re.compile(r"[0-9]+")


@dataclass
class Scenario:
    steps: dict[int, FaultPlan] = field(default_factory=dict)
    calls: int = 0

    def view(self) -> dict[str, object]:
        return {"calls": self.calls, "steps": {str(n): plan.spec for n, plan in sorted(self.steps.items())}}


class ScenarioStore:
    def __init__(self) -> None:
        self._scenarios: dict[tuple[str, str], Scenario] = {}

    def set(self, namespace: str, key: str, steps: dict[int, FaultPlan]) -> Scenario:
        """Replace the key's scenario and start counting its calls again; no steps drop it."""
        scenario = Scenario(steps)
        if steps:
            self._scenarios[(namespace, key)] = scenario
        else:
            self._scenarios.pop((namespace, key), None)
        return scenario

    def get(self, namespace: str, key: str) -> Scenario | None:
        return self._scenarios.get((namespace, key))

    def in_namespace(self, namespace: str) -> dict[str, Scenario]:
        return {key: scenario for (space, key), scenario in self._scenarios.items() if space == namespace}

    def next_call(self, namespace: str, key: str | None) -> FaultPlan | None:
        """Count one call of `key` and give the step scripted for it, if any."""
        scenario = self._scenarios.get((namespace, key)) if key is not None else None
        if scenario is None:
            return None
        scenario.calls += 1
        return scenario.steps.get(scenario.calls)

    def reset(self, namespace: str | None) -> None:
        if namespace is None:
            self._scenarios.clear()
            return
        for scope in [scope for scope in self._scenarios if scope[0] == namespace]:
            del self._scenarios[scope]


def parse_steps(raw: object) -> dict[int, FaultPlan]:
    """Steps from `{"3": spec, ...}` or `[spec-or-null, ...]`; `FaultSpecError` names a bad one."""
    if isinstance(raw, list):
        pairs = [(str(index), spec) for index, spec in enumerate(raw, start=1)]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise FaultSpecError('`steps` must be {"<call number>": "<fault spec>"} or a list of fault specs')
    steps: dict[int, FaultPlan] = {}
    for number, spec in pairs:
        # The length first: `int()` refuses a string of more than 4300 digits.
        if not (CALL_NUMBER.fullmatch(number) and len(number) <= len(str(MAX_STEP)) and 1 <= int(number) <= MAX_STEP):
            raise FaultSpecError(f"step {quoted(number)}: call numbers are whole numbers from 1 to {MAX_STEP}")
        if spec is None:
            continue
        if not isinstance(spec, str):
            raise FaultSpecError(f"step {number}: a fault spec is a string, got {quoted(spec)}")
        try:
            plan = parse_fault(spec)
        except FaultSpecError as exc:
            raise FaultSpecError(f"step {number}: {exc}") from None
        if not plan.is_none:
            steps[int(number)] = plan
    return steps
