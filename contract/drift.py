"""Drift between contract/openapi.yaml and an upstream OpenAPI document.

    python -m contract.drift [--upstream FILE_OR_URL] [--fail-on-drift]

The upstream document defaults to the path in `PPLX_UPSTREAM_SPEC`. For every operation (method
and path) in both documents it compares the JSON request body and the JSON 200 answer field by
field (dotted paths, `[]` for array items): fields added or removed, types changed, enum values
added or removed, required flags changed. Operations in only one document are listed. The report
is Markdown on stdout; the exit status is 1 on drift only with `--fail-on-drift`.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any

import yaml

from contract.spec import SPEC_PATH

METHODS = ("get", "put", "post", "patch", "delete")
MAX_DEPTH = 8


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    enum: tuple[str, ...] = ()


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


def fields(
    document: dict[str, Any], node: Any, prefix: str = "", seen: frozenset[str] = frozenset(), depth: int = 0
) -> dict[str, Field]:
    """Every field below `node`: dotted path → type, required flag, enum values."""
    node, seen = resolve(document, node, seen)
    found: dict[str, Field] = {}
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return found
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            for path, field in fields(document, branch, prefix, seen, depth + 1).items():
                found.setdefault(path, field)
    required = set(node.get("required", []))
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found[path] = Field(
            type_of(document, child, seen), name in required, tuple(sorted(enum_of(document, child, seen)))
        )
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
    return changes


def report(ours: dict[str, Any], theirs: dict[str, Any], upstream_name: str) -> tuple[str, bool]:
    """The Markdown report, and whether anything drifted."""
    mine, upstream = operations(ours), operations(theirs)
    lines = [f"# Drift: contract/openapi.yaml vs {upstream_name}", ""]
    drifted = False
    for label in sorted(mine.keys() & upstream.keys()):
        lines.append(f"## {label}")
        for side in ("request", "response"):
            changes = compare(body_fields(ours, mine[label], side), body_fields(theirs, upstream[label], side))
            drifted = drifted or bool(changes)
            lines.append(f"### {side} ({len(changes)} differences)")
            lines += [f"- {change}" for change in changes] or ["- no drift"]
        lines.append("")
    only_upstream, only_ours = sorted(upstream.keys() - mine.keys()), sorted(mine.keys() - upstream.keys())
    lines.append("## Operations in one document only")
    lines += [f"- upstream only: {label}" for label in only_upstream]
    lines += [f"- ours only: {label}" for label in only_ours]
    if not only_upstream and not only_ours:
        lines.append("- none")
    return "\n".join(lines) + "\n", drifted or bool(only_upstream or only_ours)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--upstream", default=os.environ.get("PPLX_UPSTREAM_SPEC"), help="file or URL (default: $PPLX_UPSTREAM_SPEC)"
    )
    parser.add_argument("--ours", default=str(SPEC_PATH), help=argparse.SUPPRESS)
    parser.add_argument("--fail-on-drift", action="store_true", help="exit 1 when anything drifted")
    args = parser.parse_args(argv)
    if not args.upstream:
        parser.error("no upstream document: pass --upstream FILE_OR_URL or set PPLX_UPSTREAM_SPEC")
    text, drifted = report(load_document(args.ours), load_document(args.upstream), args.upstream)
    sys.stdout.write(text)
    return 1 if drifted and args.fail_on_drift else 0


if __name__ == "__main__":
    sys.exit(main())
