"""Drift between contract/openapi.yaml and an upstream OpenAPI document.

    python -m contract.drift [--upstream FILE_OR_URL] [--allowlist FILE | --no-allowlist] [--fail-on-drift]

The upstream document defaults to the path in `PPLX_UPSTREAM_SPEC`. For every operation (method
and path) in both documents it compares the query, path and header parameters, the JSON request
body and the JSON 200 answer field by field (dotted paths, `[]` for array items): fields added or
removed, types changed, enum values added or removed, required flags, limits (minimum, maximum,
lengths, item counts, pattern) and defaults changed; and the declared response status codes.
Operations in only one document are listed.

Each difference is checked against the allow-list (`contract/drift-allowlist.yaml` unless told
otherwise): the known, deliberate differences, each with its reason. The report is Markdown on
stdout: what is not allow-listed, per operation; then what is, grouped by reason; then any
allow-list pattern that matched nothing. The exit status is 1 when a difference that is not
allow-listed touches an operation the mock serves; with `--fail-on-drift`, also when the upstream
has an operation the mock does not serve that the allow-list does not name.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any

import yaml

from contract.drift_allowlist import ALLOWLIST_PATH, Allowance, AllowlistError, allowed_by, load_allowlist
from contract.spec import SPEC_PATH

METHODS = ("get", "put", "post", "patch", "delete")
MAX_DEPTH = 8
# Schema keywords compared as limits, and `default`.
LIMITS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "default",
)
# Where a difference was found.


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    enum: tuple[str, ...] = ()
    limits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Difference:
    operation: str  # "POST /search"
    where: str  # one of drift_allowlist.WHERE
    text: str  # "not upstream: `top_k` (integer|null)"
    served: bool  # the operation is in our document: the mock serves it

    def __str__(self) -> str:
        return f"{self.operation}, {self.where}: {self.text}"


# -- reading the documents ---------------------------------------------------------------------


def load_document(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            text = response.read().decode("utf-8")
    else:
        with open(source, encoding="utf-8") as file:
            text = file.read()
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{source} is not an OpenAPI document")
    return document


def resolve(document: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> tuple[Any, frozenset[str]]:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        reference = node["$ref"]
        if reference in seen:
            return {}, seen
        seen = seen | {reference}
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node, seen


def type_of(document: dict[str, Any], node: Any, seen: frozenset[str]) -> str:
    node, seen = resolve(document, node, seen)
    if not isinstance(node, dict):
        return "any"
    kinds: set[str] = set()
    declared = node.get("type")
    if isinstance(declared, str):
        kinds.add(declared)
    elif isinstance(declared, list):
        kinds.update(str(kind) for kind in declared)
    if node.get("nullable") is True:
        kinds.add("null")
    if "const" in node and not kinds:
        kinds.add("null" if node["const"] is None else type(node["const"]).__name__.replace("str", "string"))
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            kinds.update(type_of(document, branch, seen).split("|"))
    kinds.discard("any")
    if not kinds and "properties" in node:
        kinds.add("object")
    return "|".join(sorted(kinds)) or "any"


def enum_of(document: dict[str, Any], node: Any, seen: frozenset[str]) -> set[str]:
    node, seen = resolve(document, node, seen)
    if not isinstance(node, dict):
        return set()
    values = {str(value) for value in node.get("enum", []) if value is not None}
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            values |= enum_of(document, branch, seen)
    return values


def show(value: Any) -> str:
    """A limit's value as the report writes it: strings (patterns) as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def limits_of(document: dict[str, Any], node: Any, seen: frozenset[str]) -> dict[str, str]:
    """The limit keywords on `node` and its branches (`anyOf: [{integer, minimum: 1}, {null}]`)."""
    node, seen = resolve(document, node, seen)
    if not isinstance(node, dict):
        return {}
    # `default: null` says no more than leaving the default out.
    found = {keyword: show(node[keyword]) for keyword in LIMITS if node.get(keyword) is not None}
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            for name, value in limits_of(document, branch, seen).items():
                found.setdefault(name, value)
    return found


def field_of(document: dict[str, Any], node: Any, seen: frozenset[str], required: bool) -> Field:
    return Field(
        type_of(document, node, seen),
        required,
        tuple(sorted(enum_of(document, node, seen))),
        tuple(sorted(limits_of(document, node, seen).items())),
    )


def fields(
    document: dict[str, Any], node: Any, prefix: str = "", seen: frozenset[str] = frozenset(), depth: int = 0
) -> dict[str, Field]:
    """Every field below `node`: dotted path → type, required flag, enum values, limits."""
    node, seen = resolve(document, node, seen)
    found: dict[str, Field] = {}
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return found
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            for path, child_field in fields(document, branch, prefix, seen, depth + 1).items():
                found.setdefault(path, child_field)
    required = set(node.get("required", []))
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found[path] = field_of(document, child, seen, name in required)
        found.update(fields(document, child, path, seen, depth + 1))
    items = node.get("items")
    if items is not None:
        found.update(fields(document, items, f"{prefix}[]", seen, depth + 1))
    return found


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document.get("paths", {}).items()
        for method, operation in (item or {}).items()
        if method in METHODS and isinstance(operation, dict)
    }


def body_fields(document: dict[str, Any], operation: dict[str, Any], side: str) -> dict[str, Field]:
    if side == "request":
        holder, _ = resolve(document, operation.get("requestBody", {}))
    else:
        holder, _ = resolve(document, operation.get("responses", {}).get("200", {}))
    schema = (holder or {}).get("content", {}).get("application/json", {}).get("schema")
    return fields(document, schema) if schema is not None else {}


def parameter_fields(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Field]:
    """Query, path, header and cookie parameters as fields named `<in>.<name>`."""
    found: dict[str, Field] = {}
    for reference in operation.get("parameters", []):
        parameter, seen = resolve(document, reference)
        if not isinstance(parameter, dict) or "name" not in parameter:
            continue
        path = f"{parameter.get('in', 'query')}.{parameter['name']}"
        schema = parameter.get("schema", {})
        found[path] = field_of(document, schema, seen, bool(parameter.get("required")))
        found.update(fields(document, schema, path, seen))
    return found


def statuses(operation: dict[str, Any]) -> set[str]:
    return {str(status) for status in operation.get("responses", {})}


# -- comparing ---------------------------------------------------------------------------------


def compare(ours: dict[str, Field], theirs: dict[str, Field]) -> list[str]:
    """Differences, worded from upstream's side: what upstream added, removed or changed."""
    changes = [f"added upstream: `{path}` ({theirs[path].type})" for path in sorted(theirs.keys() - ours.keys())]
    changes += [f"not upstream: `{path}` ({ours[path].type})" for path in sorted(ours.keys() - theirs.keys())]
    for path in sorted(ours.keys() & theirs.keys()):
        mine, upstream = ours[path], theirs[path]
        if mine.type != upstream.type:
            changes.append(f"type changed: `{path}` ours {mine.type}, upstream {upstream.type}")
        if mine.required != upstream.required:
            word = "required" if upstream.required else "optional"
            changes.append(f"required changed: `{path}` is {word} upstream")
        for value in sorted(set(upstream.enum) - set(mine.enum)):
            changes.append(f"enum value added upstream: `{path}` = `{value}`")
        for value in sorted(set(mine.enum) - set(upstream.enum)):
            changes.append(f"enum value not upstream: `{path}` = `{value}`")
        my_limits, their_limits = dict(mine.limits), dict(upstream.limits)
        for keyword in LIMITS:
            if my_limits.get(keyword) != their_limits.get(keyword):
                kind = "default" if keyword == "default" else "limit"
                changes.append(
                    f"{kind} changed: `{path}` {keyword} ours {my_limits.get(keyword, 'none')}, "
                    f"upstream {their_limits.get(keyword, 'none')}"
                )
    return changes


def compare_statuses(ours: set[str], theirs: set[str]) -> list[str]:
    return [f"status added upstream: {status}" for status in sorted(theirs - ours)] + [
        f"status not upstream: {status}" for status in sorted(ours - theirs)
    ]


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[Difference]:
    """Every difference between the two documents, operation by operation."""
    mine, upstream = operations(ours), operations(theirs)
    found: list[Difference] = []
    for label in sorted(mine.keys() & upstream.keys()):
        sides = {
            "parameters": compare(parameter_fields(ours, mine[label]), parameter_fields(theirs, upstream[label])),
            "request": compare(
                body_fields(ours, mine[label], "request"), body_fields(theirs, upstream[label], "request")
            ),
            "response": compare(
                body_fields(ours, mine[label], "response"), body_fields(theirs, upstream[label], "response")
            ),
            "statuses": compare_statuses(statuses(mine[label]), statuses(upstream[label])),
        }
        found += [Difference(label, where, text, True) for where, texts in sides.items() for text in texts]
    found += [Difference(label, "operation", "upstream only", False) for label in sorted(upstream.keys() - mine.keys())]
    found += [Difference(label, "operation", "not upstream", True) for label in sorted(mine.keys() - upstream.keys())]
    return found


# -- the report --------------------------------------------------------------------------------


@dataclass
class Result:
    text: str
    # Not allow-listed: on operations the mock serves, and on upstream-only operations.
    failing: list[Difference]
    unserved: list[Difference]
    # Allow-list patterns that matched nothing: "<reason>: <pattern>".
    unused: list[str]


def check(ours: dict[str, Any], theirs: dict[str, Any], upstream_name: str, allowances: list[Allowance]) -> Result:
    """The Markdown report, and what drifted without being allow-listed."""
    found = differences(ours, theirs)
    grouped: dict[int, list[Difference]] = {}
    unlisted: list[Difference] = []
    for difference in found:
        allowance = allowed_by(difference, allowances)
        if allowance is None:
            unlisted.append(difference)
        else:
            grouped.setdefault(id(allowance), []).append(difference)
    failing = [difference for difference in unlisted if difference.served]
    unserved = [difference for difference in unlisted if not difference.served]
    unused = [
        f"{allowance.reason}: `{text}`"
        for allowance in allowances
        for text in allowance.differences
        if not allowance.used.get(text)
    ]
    lines = [
        f"# Drift: contract/openapi.yaml vs {upstream_name}",
        "",
        f"{len(found)} differences: {len(found) - len(unlisted)} allow-listed, {len(failing)} not allow-listed on "
        f"operations the mock serves, {len(unserved)} not allow-listed on operations it does not serve.",
        "",
        "## Not allow-listed",
    ]
    for label in sorted({difference.operation for difference in unlisted}):
        lines.append(f"### {label}")
        lines += [f"- {d.where}: {d.text}" for d in unlisted if d.operation == label]
    if not unlisted:
        lines.append("- none")
    lines += ["", "## Allow-listed"]
    for allowance in allowances:
        covered = grouped.get(id(allowance), [])
        if covered:
            lines.append(f"### {allowance.reason} ({len(covered)})")
            lines += [f"- {difference}" for difference in covered]
    if not grouped:
        lines.append("- none")
    if unused:
        lines += ["", "## Allow-list patterns that matched nothing", *[f"- {entry}" for entry in unused]]
    return Result("\n".join(lines) + "\n", failing, unserved, unused)


def report(ours: dict[str, Any], theirs: dict[str, Any], upstream_name: str) -> tuple[str, bool]:
    """The report without an allow-list, and whether anything drifted."""
    result = check(ours, theirs, upstream_name, [])
    return result.text, bool(result.failing or result.unserved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--upstream", default=os.environ.get("PPLX_UPSTREAM_SPEC"), help="file or URL (default: $PPLX_UPSTREAM_SPEC)"
    )
    parser.add_argument("--ours", default=str(SPEC_PATH), help=argparse.SUPPRESS)
    parser.add_argument(
        "--allowlist",
        default=str(ALLOWLIST_PATH),
        help="the known differences (default: contract/drift-allowlist.yaml)",
    )
    parser.add_argument("--no-allowlist", action="store_true", help="report every difference as not allow-listed")
    parser.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="also exit 1 on upstream operations the mock does not serve that are not allow-listed",
    )
    args = parser.parse_args(argv)
    if not args.upstream:
        parser.error("no upstream document: pass --upstream FILE_OR_URL or set PPLX_UPSTREAM_SPEC")
    try:
        allowances = [] if args.no_allowlist else load_allowlist(args.allowlist)
    except (OSError, yaml.YAMLError, AllowlistError) as exc:
        parser.error(f"allow-list: {exc}")
    result = check(load_document(args.ours), load_document(args.upstream), args.upstream, allowances)
    sys.stdout.write(result.text)
    return 1 if result.failing or (args.fail_on_drift and result.unserved) else 0


if __name__ == "__main__":
    sys.exit(main())
