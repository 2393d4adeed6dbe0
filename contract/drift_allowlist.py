"""The drift allow-list: the known, deliberate differences from the upstream document, with reasons.

`contract/drift-allowlist.yaml` holds entries `{reason, operations, where, differences}`; in the
operation and difference patterns only `*` is special (any run of characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from contract.drift import Difference

ALLOWLIST_PATH = Path(__file__).with_name("drift-allowlist.yaml")
WHERE = ("operation", "parameters", "request", "response", "statuses")


def pattern(text: str) -> re.Pattern[str]:
    """A whole-text pattern in which only `*` is special: any run of characters."""
    return re.compile(".*".join(re.escape(part) for part in text.split("*")) + r"\Z", re.DOTALL)


@dataclass
class Allowance:
    """One allow-list entry: which differences it covers, and why they are deliberate."""

    reason: str
    operations: list[str]
    where: list[str]
    differences: list[str]
    # How many differences each pattern of `differences` matched (a pattern that matches nothing
    # is stale: the upstream or our models changed, and the entry should go).
    used: dict[str, int] = field(default_factory=dict)

    def covers(self, difference: Difference) -> str | None:
        """The pattern that allows `difference`, if any."""
        if self.where and difference.where not in self.where:
            return None
        if not any(pattern(operation).match(difference.operation) for operation in self.operations):
            return None
        return next((text for text in self.differences if pattern(text).match(difference.text)), None)


class AllowlistError(ValueError):
    pass


def load_allowlist(path: Path | str) -> list[Allowance]:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    entries = document.get("allow") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise AllowlistError(f"{path}: expected a mapping with an `allow` list (and optional `groups`)")
    allowances = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: entry {number}"
        if not isinstance(entry, dict) or set(entry) - {"reason", "operations", "where", "differences"}:
            raise AllowlistError(f"{where}: keys are reason, operations, where and differences")
        reason, differences_ = entry.get("reason"), entry.get("differences")
        operations_, sides = entry.get("operations", ["*"]), entry.get("where", [])
        if isinstance(operations_, list):
            # A YAML alias of a group inside a list (`[*chat, *async_create]`) nests that group.
            operations_ = [item for part in operations_ for item in (part if isinstance(part, list) else [part])]
        if not isinstance(reason, str) or not reason.strip():
            raise AllowlistError(f"{where}: `reason` must say why the difference is deliberate")
        for name, value in (("differences", differences_), ("operations", operations_), ("where", sides)):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise AllowlistError(f"{where}: `{name}` must be a list of strings")
        if not differences_:
            raise AllowlistError(f"{where}: `differences` is empty")
        if unknown := set(sides) - set(WHERE):
            raise AllowlistError(f"{where}: unknown `where` {sorted(unknown)}; one of {list(WHERE)}")
        allowances.append(Allowance(reason.strip(), operations_, sides, differences_))
    return allowances


def allowed_by(difference: Difference, allowances: list[Allowance]) -> Allowance | None:
    for allowance in allowances:
        matched = allowance.covers(difference)
        if matched is not None:
            allowance.used[matched] = allowance.used.get(matched, 0) + 1
            return allowance
    return None
