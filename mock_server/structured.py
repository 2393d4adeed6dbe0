"""
Deterministic structured outputs for ``response_format``.

Perplexity documents two modes: ``json_schema`` (the answer is JSON valid against a
non-recursive schema whose objects all declare their properties) and ``regex`` (the
answer matches a regex from a restricted subset). This module validates both kinds of
request the way the real API does and produces plausible answers from a seeded RNG.
"""

from __future__ import annotations

import copy
import math
import operator
import random
import re
import re._parser as sre  # type: ignore[import-not-found]  # typeshed does not type the 3.11+ private module
import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

__all__ = [
    "UnsupportedRegex",
    "UnsupportedSchema",
    "check_json_schema",
    "check_regex",
    "generate_from_regex",
    "generate_json",
]


class UnsupportedSchema(ValueError):
    """A JSON schema that structured outputs refuse; the message names the offending subschema."""


class UnsupportedRegex(ValueError):
    """A regex outside the subset that structured outputs accept."""


# --------------------------------------------------------------------------- regex

_ATTEMPTS = 200
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ANCHORS = {
    sre.AT_BEGINNING: "^",
    sre.AT_END: "$",
    sre.AT_BEGINNING_STRING: "\\A",
    sre.AT_END_STRING: "\\Z",
    sre.AT_BOUNDARY: "\\b",
    sre.AT_NON_BOUNDARY: "\\B",
}
_CATEGORIES = {
    sre.CATEGORY_DIGIT: re.compile(r"\d"),
    sre.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre.CATEGORY_SPACE: re.compile(r"\s"),
    sre.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    sre.CATEGORY_WORD: re.compile(r"\w"),
    sre.CATEGORY_NOT_WORD: re.compile(r"\W"),
}
# Characters are drawn from the first tier that has any candidate, which keeps output readable:
# `.` and `[^x]` give letters and digits, `\s` gives a space, and non-ASCII only when nothing else fits.
_TIERS = (string.ascii_letters + string.digits, " " + string.punctuation, "".join(map(chr, range(0xA1, 0x800))))


def _children(op: Any, av: Any) -> list[Any]:
    if op is sre.SUBPATTERN:
        return [av[3]]
    if op is sre.BRANCH:
        return list(av[1])
    if op in _REPEATS:
        return [av[2]]
    if op is sre.ASSERT or op is sre.ASSERT_NOT:
        return [av[1]]
    if op is sre.ATOMIC_GROUP:
        return [av]
    return []


def _parse(pattern: object, error: type[ValueError], *, anchors_ok: bool) -> Any:
    if not isinstance(pattern, str):
        raise error(f"The regex must be a string, not {type(pattern).__name__}.")
    try:
        re.compile(pattern)
        tree = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise error(f"The regex {pattern!r} does not compile: {exc}.") from None
    stack = [tree]
    while stack:
        for op, av in stack.pop():
            if op is sre.GROUPREF:
                raise error(f"Backreferences such as \\1 or (?P=name) are not supported (in {pattern!r}).")
            if op is sre.GROUPREF_EXISTS:
                raise error(f"Conditional groups such as (?(1)...) are not supported (in {pattern!r}).")
            if not anchors_ok and op is sre.AT:
                raise error(f"The anchor {_ANCHORS.get(av, str(av))} is not supported (in {pattern!r}).")
            if not anchors_ok and (op is sre.ASSERT or op is sre.ASSERT_NOT) and av[0] < 0:
                kind = "(?<=...)" if op is sre.ASSERT else "(?<!...)"
                raise error(f"Look-behind assertions such as {kind} are not supported (in {pattern!r}).")
            stack.extend(_children(op, av))
    return tree


def _in_set(items: Any, ch: str, flags: int) -> bool:
    forms = [f for f in (ch, ch.lower(), ch.upper()) if len(f) == 1] if flags & re.IGNORECASE else [ch]
    hit = False
    for op, av in items:
        if op is sre.LITERAL:
            hit = chr(av) in forms
        elif op is sre.RANGE:
            hit = any(av[0] <= ord(f) <= av[1] for f in forms)
        elif op is sre.CATEGORY:
            hit = _CATEGORIES[av].match(ch) is not None
        if hit:
            break
    return hit != (bool(items) and items[0][0] is sre.NEGATE)


class _RegexWriter:
    def __init__(self, rng: random.Random, error: type[ValueError]) -> None:
        self.rng, self.error, self.extra, self.guided = rng, error, 3, False
        self.sets: dict[tuple[str, int], list[str]] = {}
        self.forced: list[str] = []

    def write(self, items: Any, flags: int) -> str:
        out: list[str] = []
        for op, av in items:
            if op is sre.LITERAL:
                out.append(chr(av))
                del self.forced[:1]
            elif op is sre.NOT_LITERAL or op is sre.ANY:
                out.append(self.char([(sre.NEGATE, None), (sre.LITERAL, 10 if op is sre.ANY else av)], flags))
            elif op is sre.IN:
                out.append(self.char(av, flags))
            elif op is sre.BRANCH:
                out.append(self.write(self.rng.choice(av[1]), flags))
            elif op is sre.SUBPATTERN:
                out.append(self.write(av[3], (flags | av[1]) & ~av[2]))
            elif op is sre.ATOMIC_GROUP:
                out.append(self.write(av, flags))
            elif op in _REPEATS:
                low, high, sub = av
                top = min(high, low + self.extra + (0 if high >= sre.MAXREPEAT else 8))
                out.extend(self.write(sub, flags) for _ in range(self.rng.randint(low, top)))
            elif op is sre.ASSERT and av[0] > 0 and self.guided and not self.forced:
                # Steer the next characters toward what the lookahead wants; blind retries rarely hit (?=\d{3}).
                self.forced = list(self.write(av[1], flags))
            # Other assertions and anchors consume nothing: the caller re-checks every candidate with `re`.
        return "".join(out)

    def char(self, items: Any, flags: int) -> str:
        wanted = self.forced.pop(0) if self.forced else None
        if wanted is not None and _in_set(items, wanted, flags):
            return wanted
        key = (repr(items), flags)
        if key not in self.sets:
            members: list[str] = []
            for tier in _TIERS:
                members = [c for c in tier if _in_set(items, c, flags)]
                if members:
                    break
            if not members:
                spans = [(av, av) if op is sre.LITERAL else av for op, av in items if op in (sre.LITERAL, sre.RANGE)]
                edges = [chr(x) for lo, hi in spans for x in (lo, (lo + hi) // 2, hi)]
                members = [c for c in edges if _in_set(items, c, flags)]
            self.sets[key] = members
        if not self.sets[key]:
            raise self.error("A character class in the regex matches no character that can be produced.")
        return self.rng.choice(self.sets[key])


def _sample(
    tree: Any, rng: random.Random, error: type[ValueError], accept: Callable[[str], str | None], boost: int = 0
) -> str | None:
    writer = _RegexWriter(rng, error)
    for attempt in range(_ATTEMPTS):
        # Later attempts allow longer repeats, for lookaheads or minLength that need more characters.
        writer.extra, writer.guided, writer.forced = 3 + attempt * (1 + boost) // 10, attempt % 2 == 1, []
        result = accept(writer.write(tree, tree.state.flags))
        if result is not None:
            return result
    return None


def check_regex(pattern: str) -> None:
    """Raise `UnsupportedRegex` unless `pattern` is within the regex subset that `sonar` accepts."""
    _parse(pattern, UnsupportedRegex, anchors_ok=False)


def generate_from_regex(pattern: str, rng: random.Random) -> str:
    """Return a string that `re.fullmatch(pattern, ...)` accepts, determined by the state of `rng`."""
    tree = _parse(pattern, UnsupportedRegex, anchors_ok=False)
    compiled = re.compile(pattern)
    result = _sample(tree, rng, UnsupportedRegex, lambda s: s if compiled.fullmatch(s) else None)
    if result is None:
        raise UnsupportedRegex(f"Could not produce a string matching {pattern!r} in {_ATTEMPTS} attempts.")
    return result


# --------------------------------------------------------------------------- JSON schema

_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")
_OBJECT_KEYS = (
    "properties",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedProperties",
    "dependentSchemas",
    "dependentRequired",
)
_INFER = (
    ("object", (*_OBJECT_KEYS, "required")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)
_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "dependentSchemas")
_SIZES = (
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
    ("minProperties", "maxProperties"),
    ("minContains", "maxContains"),
)
_BOUNDS = (
    ("minimum", operator.ge),
    ("exclusiveMinimum", operator.gt),
    ("maximum", operator.le),
    ("exclusiveMaximum", operator.lt),
)
_FORMATS = ("date", "date-time", "time", "duration", "email", "uri", "hostname", "uuid", "ipv4", "ipv6")
_ALIASES = {
    "idn-email": "email",
    "iri": "uri",
    "uri-reference": "uri",
    "iri-reference": "uri",
    "idn-hostname": "hostname",
}
# The longest answer a model may give (`max_tokens` is at most 128,000), in characters at about four
# a token: a schema whose smallest value is larger cannot be answered, and building it would hold
# the event loop for minutes.
MAX_ANSWER_TOKENS = 128_000
MAX_ANSWER_CHARS = 4 * MAX_ANSWER_TOKENS
# Keywords the writer does not build values from but checks them against, and how many draws a
# value gets before the schema is given up as one the mock cannot answer.
_CHECKED_AFTER = ("not", "contains")
_CHECKED_TRIES = 20
_PY_TYPES: dict[str, Any] = {"string": str, "boolean": bool, "null": type(None), "array": list, "object": Mapping}
Loc = tuple[str, ...]


def _ptr(loc: Loc) -> str:
    return "#" + "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in loc)


def _lookup(root: Mapping[str, Any], ref: object, where: Loc) -> tuple[Loc, Any]:
    if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
        raise UnsupportedSchema(
            f"The $ref {ref!r} at {_ptr(where)} is not a JSON pointer into this document "
            f"such as '#/$defs/Name', and references outside the document are not supported."
        )
    loc = tuple(unquote(t).replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")) if ref != "#" else ()
    node: Any = root
    for token in loc:
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise UnsupportedSchema(f"The $ref {ref!r} at {_ptr(where)} points to a missing definition.")
    return loc, node


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _frac(x: float) -> Fraction:
    # Going through str keeps 0.1 as 1/10, matching what the schema author wrote.
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def _types(node: Mapping[str, Any]) -> list[str]:
    kinds = node.get("type")
    if kinds is not None:
        return [kinds] if isinstance(kinds, str) else list(kinds)
    inferred = next(([kind] for kind, keys in _INFER if any(k in node for k in keys)), None)
    if inferred is not None:
        return inferred
    negated = node.get("not")
    if isinstance(negated, Mapping) and "type" in negated:
        # `{"not": {"type": "string"}}`: a value of another simple type.
        excluded = set(_types(negated)) | ({"integer"} if "number" in _types(negated) else set())
        others = [kind for kind in ("string", "integer", "number", "boolean") if kind not in excluded]
        if others:
            return others
    return ["string"]


def _step(node: Mapping[str, Any], integer: bool) -> Fraction:
    if "multipleOf" not in node:
        return Fraction(1) if integer else Fraction(1, 100)
    step = _frac(node["multipleOf"])
    # Integer multiples of p/q (in lowest terms) are exactly the multiples of p.
    return Fraction(step.numerator) if integer else step


def _span(node: Mapping[str, Any], step: Fraction) -> tuple[int | None, int | None]:
    """Range of k such that k * step satisfies the bounds of `node`; None is unbounded."""
    lows = [math.ceil(_frac(node["minimum"]) / step)] if "minimum" in node else []
    lows += [math.floor(_frac(node["exclusiveMinimum"]) / step) + 1] if "exclusiveMinimum" in node else []
    highs = [math.floor(_frac(node["maximum"]) / step)] if "maximum" in node else []
    highs += [math.ceil(_frac(node["exclusiveMaximum"]) / step) - 1] if "exclusiveMaximum" in node else []
    return max(lows, default=None), min(highs, default=None)


def _limits(node: Mapping[str, Any]) -> tuple[tuple[Fraction, bool] | None, tuple[Fraction, bool] | None]:
    lows = [(_frac(node[k]), k == "exclusiveMinimum") for k in ("minimum", "exclusiveMinimum") if k in node]
    highs = [(_frac(node[k]), k != "exclusiveMaximum") for k in ("maximum", "exclusiveMaximum") if k in node]
    # Ties resolve to the exclusive bound: (v, True) sorts last among lows, (v, False) first among highs.
    return max(lows, default=None), min(highs, default=None)


def _empty_range(node: Mapping[str, Any]) -> bool:
    integer = [t for t in _types(node) if t != "null"] == ["integer"]
    if integer or "multipleOf" in node:
        low, high = _span(node, _step(node, integer))
        return low is not None and high is not None and low > high
    lo, hi = _limits(node)
    return lo is not None and hi is not None and (lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or not hi[1])))


def _check_node(node: Mapping[str, Any], where: str) -> None:
    kinds = node.get("type", [])
    if not isinstance(kinds, str) and (not isinstance(kinds, list) or ("type" in node and not kinds)):
        raise UnsupportedSchema(f"The type {kinds!r} at {where} is not a JSON Schema type.")
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind not in _TYPES:
            raise UnsupportedSchema(f"The type {kind!r} at {where} is not a JSON Schema type.")
    props = node.get("properties")
    if (props is None and ("object" in kinds or any(k in node for k in _OBJECT_KEYS))) or (
        not props and node.get("additionalProperties", False) is not False
    ):
        raise UnsupportedSchema(
            f"The object schema at {where} declares no properties, and unconstrained objects "
            f"such as dict[str, Any] are not supported."
        )
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise UnsupportedSchema(f"The required keyword at {where} must be a list of property names.")
    for name in required:
        if not isinstance(props, Mapping) or name not in props:
            raise UnsupportedSchema(f"The required property {name!r} at {where} is not listed in properties.")
        if props[name] is False:
            raise UnsupportedSchema(f"The required property {name!r} at {where} has the schema false.")
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        raise UnsupportedSchema(f"The enum at {where} is empty, so no value can satisfy it.")
    for key, _ in (*_BOUNDS, ("multipleOf", None)):
        if key in node and not _is_num(node[key]):
            raise UnsupportedSchema(f"The {key} at {where} must be a finite number.")
    if node.get("multipleOf", 1) <= 0:
        raise UnsupportedSchema(f"The multipleOf at {where} must be greater than zero.")
    for low, high in _SIZES:
        for key in (low, high):
            if key in node and (not isinstance(node[key], int) or isinstance(node[key], bool) or node[key] < 0):
                raise UnsupportedSchema(f"The {key} at {where} must be a non-negative integer.")
        if node.get(low, 0) > node.get(high, math.inf):
            raise UnsupportedSchema(f"The {low} at {where} is greater than its {high}, so no value can satisfy it.")
    if _empty_range(node):
        raise UnsupportedSchema(f"The numeric range at {where} is empty, so no number can satisfy it.")
    if "pattern" in node:
        try:
            _parse(node["pattern"], UnsupportedSchema, anchors_ok=True)
        except UnsupportedSchema as exc:
            raise UnsupportedSchema(f"The pattern at {where} is not supported: {exc}") from None
    for key in ("$dynamicRef", "$recursiveRef"):
        if key in node:
            raise UnsupportedSchema(f"The {key} at {where} is not supported because recursive schemas are not.")


def _field(node: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = node.get(key, kind())
    if not isinstance(value, kind):
        raise UnsupportedSchema(f"The {key} at {where} must be a JSON {'array' if kind is list else 'object'}.")
    return value


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.open: set[Loc] = set()
        self.done: set[Loc] = set()

    def walk(self, node: Any, loc: Loc) -> None:
        if loc in self.done or isinstance(node, bool):
            return
        where = _ptr(loc)
        if not isinstance(node, Mapping):
            raise UnsupportedSchema(f"The subschema at {where} must be a JSON object or a boolean.")
        self.open.add(loc)
        _check_node(node, where)
        if "$ref" in node:
            target_loc, target = _lookup(self.root, node["$ref"], loc)
            if target_loc in self.open:
                raise UnsupportedSchema(
                    f"The $ref {node['$ref']!r} at {where} refers back to an enclosing schema, "
                    f"and recursive JSON schemas are not supported."
                )
            self.walk(target, target_loc)
        for key in _ONE:
            if key in node:
                self.walk(node[key], (*loc, key))
        for key in _MANY:
            for i, sub in enumerate(_field(node, key, list, where)):
                self.walk(sub, (*loc, key, str(i)))
        for key in _NAMED:
            for name, sub in _field(node, key, dict, where).items():
                self.walk(sub, (*loc, key, name))
        self.open.discard(loc)
        self.done.add(loc)
        # Definitions only matter through $ref, so they are walked once their holder is closed:
        # an unused definition pointing back at the holder is not a cycle.
        for key in ("$defs", "definitions"):
            for name, sub in _field(node, key, dict, where).items():
                self.walk(sub, (*loc, key, name))


def check_json_schema(schema: object) -> None:
    """Raise `UnsupportedSchema` unless structured outputs accept `schema`."""
    if not isinstance(schema, Mapping):
        raise UnsupportedSchema(f"The schema at # must be a JSON object, not {type(schema).__name__}.")
    try:
        _Checker(schema).walk(schema, ())
    except RecursionError:
        raise UnsupportedSchema("The schema at # is nested too deeply to process.") from None


def _canon(v: Any) -> Any:
    # JSON equality: 1 == 1.0 but True != 1, and key order does not matter.
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return type(v).__name__, v
    if isinstance(v, (int, float)):
        return "number", v
    if isinstance(v, list):
        return "array", tuple(_canon(x) for x in v)
    if isinstance(v, Mapping):
        return "object", frozenset((k, _canon(x)) for k, x in v.items())
    return "other", repr(v)


def _is_type(v: Any, kind: str) -> bool:
    if kind in ("integer", "number"):
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        return number and (kind == "number" or isinstance(v, int) or float(v).is_integer())
    return isinstance(v, _PY_TYPES[kind])


def _is_multiple(v: float, m: float) -> bool:
    # Same arithmetic as `jsonschema`, which rejects e.g. 0.3 as a multiple of 0.1.
    if isinstance(m, float):
        q = v / m
        return q == int(q) if math.isfinite(q) else (Fraction(v) / Fraction(m)).denominator == 1
    return v % m == 0


def _valid(v: Any, node: Any, root: Mapping[str, Any]) -> bool:
    """Approximate draft 2020-12 validation; unknown keywords pass, keeping `oneOf` exclusivity conservative."""
    if isinstance(node, bool):
        return node
    if "$ref" in node and not _valid(v, _lookup(root, node["$ref"], ())[1], root):
        return False
    if "type" in node and not any(_is_type(v, kind) for kind in _types(node)):
        return False
    if ("const" in node and _canon(v) != _canon(node["const"])) or (
        "enum" in node and _canon(v) not in [_canon(e) for e in node["enum"]]
    ):
        return False
    if (
        not all(_valid(v, sub, root) for sub in node.get("allOf", ()))
        or ("anyOf" in node and not any(_valid(v, sub, root) for sub in node["anyOf"]))
        or ("oneOf" in node and sum(_valid(v, sub, root) for sub in node["oneOf"]) != 1)
        or ("not" in node and _valid(v, node["not"], root))
    ):
        return False
    if isinstance(v, str):
        in_range = node.get("minLength", 0) <= len(v) <= node.get("maxLength", len(v))
        return in_range and ("pattern" not in node or re.search(node["pattern"], v) is not None)
    if _is_type(v, "number"):
        if any(key in node and not op(v, node[key]) for key, op in _BOUNDS):
            return False
        return "multipleOf" not in node or _is_multiple(v, node["multipleOf"])
    if isinstance(v, list):
        if not node.get("minItems", 0) <= len(v) <= node.get("maxItems", len(v)) or (
            node.get("uniqueItems") and len({_canon(x) for x in v}) != len(v)
        ):
            return False
        if "contains" in node:
            matches = sum(_valid(x, node["contains"], root) for x in v)
            if not node.get("minContains", 1) <= matches <= node.get("maxContains", matches):
                return False
        prefix, rest = node.get("prefixItems", []), node.get("items", True)
        return all(_valid(x, prefix[i] if i < len(prefix) else rest, root) for i, x in enumerate(v))
    if isinstance(v, Mapping):
        props, patterns = node.get("properties", {}), list(node.get("patternProperties", {}))
        if any(k not in v for k in node.get("required", ())) or not (
            node.get("minProperties", 0) <= len(v) <= node.get("maxProperties", len(v))
        ):
            return False
        for k, x in v.items():
            if k in props:
                if not _valid(x, props[k], root):
                    return False
            elif not any(re.search(p, k) for p in patterns) and not _valid(
                x, node.get("additionalProperties", True), root
            ):
                return False
    return True


_FIRST = ("James", "Maria", "Michael", "Aisha", "Wei", "Sofia", "David", "Elena", "Kenji", "Amara", "Lucas", "Priya")
_LAST = ("Smith", "Garcia", "Johnson", "Chen", "Okafor", "Rossi", "Novak", "Tanaka", "Silva", "Patel", "Brown")
_COUNTRIES = ("France", "Japan", "Brazil", "Canada", "Kenya", "India", "Germany", "Mexico", "Australia", "Norway")
_CITIES = ("Paris", "Tokyo", "Nairobi", "Toronto", "Lisbon", "Seoul", "Chicago", "Melbourne", "Oslo", "Lima")
_COMPANIES = ("Acme Corporation", "Globex", "Initech", "Northwind Traders", "Contoso")
_WORDS = ("alpha", "harbor", "maple", "summit", "river", "falcon", "cedar", "meadow", "lantern", "orbit")
_FILLER = ("with", "further", "details", "and", "context", "drawn", "from", "the", "available", "sources")
_SENTENCES = (
    "A concise overview of {}.",
    "Key facts about {}, summarised from several sources.",
    "This answer covers {} in brief.",
    "An explanation of {} and its main points.",
)
_PROSE = (
    "summary",
    "description",
    "text",
    "content",
    "answer",
    "explanation",
    "reason",
    "reasoning",
    "detail",
    "bio",
    "biography",
    "note",
    "comment",
    "message",
    "body",
    "abstract",
    "overview",
    "analysis",
    "conclusion",
)
_RANGES = (
    (("birth", "born"), 1940, 2000),
    (("year",), 1950, 2024),
    (("age",), 18, 80),
    (("percent", "percentage", "pct"), 0, 100),
    (("rating", "score", "star"), 1, 10),
    (("price", "cost", "amount", "salary", "revenue", "budget"), 10, 5000),
    (("population",), 10_000, 5_000_000),
    (("latitude", "lat"), -90, 90),
    (("longitude", "lon", "lng"), -180, 180),
    (("count", "num", "number", "total", "quantity", "season", "game", "episode", "goal", "point"), 1, 20),
)


def _tokens(name: str) -> set[str]:
    words = re.findall(r"[a-z]+|\d+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    # Array items get the array's name, so plurals must hint like their singular.
    return set(words) | {
        w[:-3] + "y" if w.endswith("ies") else w[:-1] for w in words if w.endswith("s") and not w.endswith("ss")
    }


def _both(first: Any, second: Any) -> Any:
    """A subschema for values meant to satisfy two (an approximation: the later keyword wins)."""
    if first is True or second is False:
        return second
    if second is True or first is False:
        return first
    return {**first, **second}


def _fit(text: str, low: int, high: int | None) -> str:
    # Words gathered and joined once: appending to the string each time is quadratic in `low`.
    words, size, fill = [text] if text else [], len(text), 0
    while size < low:
        word = _FILLER[fill % len(_FILLER)]
        size += len(word) + (1 if words else 0)
        words.append(word)
        fill += 1
    text = " ".join(words) if fill else text
    if high is not None and len(text) > high:
        cut = text[:high]
        text = cut.rstrip() if len(cut.rstrip()) >= low else cut
    return text


class _JsonWriter:
    def __init__(self, root: Mapping[str, Any], rng: random.Random, hints: Sequence[str]) -> None:
        self.root, self.rng = root, rng
        self.hints = [h.strip() for h in hints if h.strip()]
        self.left = MAX_ANSWER_CHARS

    def spend(self, size: int, loc: Loc) -> None:
        """Count `size` characters (or items) the answer must hold before building them."""
        self.left -= size
        if self.left < 0:
            raise UnsupportedSchema(
                f"The schema asks for more than any answer can hold (at {_ptr(loc)}): an answer has at most "
                f"{MAX_ANSWER_TOKENS:,} tokens, about {MAX_ANSWER_CHARS:,} characters."
            )

    def value(self, node: Any, loc: Loc, name: str) -> Any:
        if not isinstance(node, Mapping) or not any(key in node for key in _CHECKED_AFTER):
            return self._value(node, loc, name)
        # Keywords the writer does not build from (see _CHECKED_AFTER): values are drawn until one
        # satisfies the whole schema.
        for _ in range(_CHECKED_TRIES):
            v = self._value(node, loc, name)
            if _valid(v, node, self.root):
                return v
        keys = " and ".join(key for key in _CHECKED_AFTER if key in node)
        raise UnsupportedSchema(f"Could not produce a value at {_ptr(loc)} that satisfies its {keys}.")

    def _value(self, node: Any, loc: Loc, name: str) -> Any:
        if node is True:
            return self.text(name)
        if node is False:
            raise UnsupportedSchema(f"The schema at {_ptr(loc)} is false, so no value can satisfy it.")
        if "$ref" in node:
            # Siblings of $ref are annotations in everything pydantic emits, so the target alone decides.
            target_loc, target = _lookup(self.root, node["$ref"], loc)
            return self.value(target, target_loc, name)
        if "const" in node:
            return copy.deepcopy(node["const"])
        for key in ("enum", "examples"):
            options = [e for e in node.get(key, ()) if _valid(e, node, self.root)]
            if options:
                return copy.deepcopy(self.rng.choice(options))
            if key == "enum" and key in node:
                raise UnsupportedSchema(f"No enum value at {_ptr(loc)} satisfies the rest of its schema.")
        if "allOf" in node:
            return self.value(self.merge(node, loc), loc, name)
        for key in ("oneOf", "anyOf"):
            if key in node:
                return self.choose(node, key, loc, name)
        kind = self.rng.choice([t for t in _types(node) if t != "null"] or ["null"])
        if kind == "object":
            props, required = node.get("properties", {}), node.get("required", [])
            # Every property is emitted (optional ones too): deterministic and always valid.
            return {
                k: self.value(sub, (*loc, "properties", k), k)
                for k, sub in props.items()
                if sub is not False or k in required
            }
        if kind == "array":
            return self.array(node, loc, name)
        if kind in ("integer", "number"):
            return self.number(node, loc, name, kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        low, high = node.get("minLength", 0), node.get("maxLength")
        self.spend(low, loc)
        if "pattern" in node:
            return self.pattern(node["pattern"], low, high, loc)
        text = self.text(name, node.get("format"))
        fitted = _fit(text, low, high)
        if fitted != text and _ALIASES.get(node.get("format"), node.get("format")) in _FORMATS:
            raise UnsupportedSchema(f"Could not produce a {node['format']} string at {_ptr(loc)} within its bounds.")
        return fitted

    def merge(self, node: Mapping[str, Any], loc: Loc) -> dict[str, Any]:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for i, part in enumerate(node["allOf"]):
            part_loc = (*loc, "allOf", str(i))
            while isinstance(part, Mapping) and "$ref" in part:
                part_loc, part = _lookup(self.root, part["$ref"], part_loc)
            if part is False:
                raise UnsupportedSchema(f"The allOf member at {_ptr(part_loc)} is false, so no value satisfies it.")
            for key, v in part.items() if isinstance(part, Mapping) else ():
                if key == "properties":
                    merged[key] = {**merged.get(key, {}), **v}
                elif key == "required":
                    merged[key] = [*merged.get(key, []), *v]
                else:
                    merged.setdefault(key, v)
        return merged

    def choose(self, node: Mapping[str, Any], key: str, loc: Loc, name: str) -> Any:
        rest = {k: v for k, v in node.items() if k != key}
        branches = list(enumerate(node[key]))
        self.rng.shuffle(branches)
        # Null branches go last so Optional[X] yields an X.
        branches.sort(
            key=lambda b: (
                isinstance(b[1], Mapping)
                and (b[1].get("type") == "null" or ("const" in b[1] and b[1]["const"] is None))
            )
        )
        for _ in range(10):
            for i, branch in branches:
                sub = {**rest, **branch} if isinstance(branch, Mapping) else rest if branch else False
                try:
                    v = self.value(sub, (*loc, key, str(i)), name)
                except UnsupportedSchema:
                    continue
                if _valid(v, node, self.root):
                    return v
        raise UnsupportedSchema(f"No branch of the {key} at {_ptr(loc)} yields a value that satisfies the schema.")

    def array(self, node: Mapping[str, Any], loc: Loc, name: str) -> list[Any]:
        prefix, items = node.get("prefixItems", []), node.get("items", True)
        low, high = node.get("minItems", 0), node.get("maxItems")
        # `contains`: the first items after the prefix are drawn from it (and `items`); `value`
        # then checks the counts the whole array ends up with.
        contains = node.get("contains")
        needed = node.get("minContains", 1) if contains is not None else 0
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        size = max(low, len(prefix) if prefix else self.rng.randint(1, 3), len(prefix) + needed)
        size = size if high is None else min(size, high)
        if size < low:
            raise UnsupportedSchema(f"The array at {_ptr(loc)} needs {low} items but its items allow only {high}.")
        self.spend(size, loc)
        out: list[Any] = []
        seen: set[Any] = set()
        for i in range(size):
            if i < len(prefix):
                sub, sub_loc = prefix[i], (*loc, "prefixItems", str(i))
            elif i < len(prefix) + needed:
                sub, sub_loc = _both(items, contains), (*loc, "contains")
            else:
                sub, sub_loc = items, (*loc, "items")
            for _ in range(50):
                v = self.value(sub, sub_loc, name)
                if not node.get("uniqueItems") or _canon(v) not in seen:
                    break
            else:
                if i >= low:
                    break
                raise UnsupportedSchema(f"Could not produce {low} distinct items for the array at {_ptr(loc)}.")
            seen.add(_canon(v))
            out.append(v)
        return out

    def number(self, node: Mapping[str, Any], loc: Loc, name: str, integer: bool) -> float:
        step = _step(node, integer)
        low, high = _span(node, step)
        words = _tokens(name)
        plo, phi = next(((lo, hi) for keys, lo, hi in _RANGES if any(k in words for k in keys)), (1, 100))
        a, b = math.ceil(plo / step), math.floor(phi / step)
        b = max(a, b)
        # Keep the plausible range where it overlaps the schema's bounds, else stay close to the nearest bound.
        if low is not None and low > b:
            a, b = low, low + 20
        if high is not None and high < a:
            a, b = high - 20, high
        if low is not None and high is not None and high - low <= b - a:
            a, b = low, high
        a, b = a if low is None else max(a, low), b if high is None else min(b, high)
        picks = [self.rng.randint(a, b) * step for _ in range(20)] if a <= b else []
        candidates: list[float] = [int(p) if integer else float(p) for p in picks]
        lo, hi = _limits(node)
        if not integer and "multipleOf" not in node and lo and hi:
            candidates.append(float((lo[0] + hi[0]) / 2))
        for v in candidates:
            if _valid(v, node, self.root):
                return v
        raise UnsupportedSchema(f"Could not produce a number within the bounds at {_ptr(loc)}.")

    def pattern(self, pattern: str, low: int, high: int | None, loc: Loc) -> str:
        tree, compiled = _parse(pattern, UnsupportedSchema, anchors_ok=True), re.compile(pattern)

        def accept(s: str) -> str | None:
            # JSON Schema patterns are unanchored searches, so padding or trimming may keep the match.
            top, pad = len(s) if high is None else high, "x" * max(0, low - len(s))
            for candidate in (s, s + pad, pad + s, s[:top], s[len(s) - top :]):
                if low <= len(candidate) <= (high if high is not None else len(candidate)) and compiled.search(
                    candidate
                ):
                    return candidate
            return None

        result = _sample(tree, self.rng, UnsupportedSchema, accept, boost=low // 8)
        if result is None:
            raise UnsupportedSchema(f"Could not produce a string at {_ptr(loc)} matching its pattern and length.")
        return result

    def text(self, name: str, fmt: object = None) -> str:
        r, words = self.rng, _tokens(name)
        topic = " ".join(self.hints[i] for i in sorted(r.sample(range(len(self.hints)), min(3, len(self.hints)))))
        slug = "-".join(re.findall(r"[a-z0-9]+", topic.lower())) or r.choice(_WORDS)
        formats: dict[str, Callable[[], str]] = {
            "date": lambda: f"{r.randint(1990, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            "time": lambda: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z",
            "email": lambda: f"{r.choice(_FIRST)}.{r.choice(_LAST)}@example.com".lower(),
            "uri": lambda: f"https://www.example.com/{slug}",
            "hostname": lambda: "www.example.com",
            "duration": lambda: f"P{r.randint(1, 30)}DT{r.randint(1, 23)}H",
            "uuid": lambda: str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "ipv4": lambda: ".".join(str(r.randint(1, 254)) for _ in range(4)),
            "ipv6": lambda: f"2001:db8::{r.randint(1, 0xFFFF):x}",
        }
        formats["date-time"] = lambda: f"{formats['date']()}T{formats['time']()}"
        fmt = _ALIASES.get(fmt, fmt) if isinstance(fmt, str) else None
        if isinstance(fmt, str) and fmt in formats:
            return formats[fmt]()
        rules: tuple[tuple[tuple[str, ...], Callable[[], str]], ...] = (
            (("first", "given", "firstname", "forename"), lambda: r.choice(_FIRST)),
            (("last", "surname", "family", "lastname"), lambda: r.choice(_LAST)),
            (("email", "mail"), formats["email"]),
            (("url", "uri", "link", "website", "homepage", "href", "source"), formats["uri"]),
            (("country", "nation", "nationality"), lambda: r.choice(_COUNTRIES)),
            (("city", "town", "capital", "location", "place", "birthplace"), lambda: r.choice(_CITIES)),
            (("company", "organization", "organisation", "team", "club", "brand"), lambda: r.choice(_COMPANIES)),
            (
                ("name", "author", "person", "player", "user", "username", "owner"),
                lambda: f"{r.choice(_FIRST)} {r.choice(_LAST)}",
            ),
            (
                ("title", "headline", "heading", "topic", "subject"),
                lambda: topic.title() if topic else r.choice(("An Overview", "Key Findings", "Recent Developments")),
            ),
            (("date", "day", "birthday", "birthdate"), formats["date"]),
            (("year",), lambda: str(r.randint(1950, 2024))),
            (("phone", "telephone", "mobile"), lambda: f"+1-555-{r.randint(100, 999)}-{r.randint(1000, 9999)}"),
            (("language", "lang"), lambda: r.choice(("English", "Spanish", "French", "German", "Japanese"))),
            (("color", "colour"), lambda: r.choice(("red", "green", "blue", "orange", "purple"))),
            (("id", "uuid", "identifier"), formats["uuid"]),
            (_PROSE, lambda: r.choice(_SENTENCES).format(topic or r.choice(("the topic", "the main findings")))),
        )
        for keys, make in rules:
            if any(k in words for k in keys):
                return make()
        return r.choice(self.hints or _WORDS)


def generate_json(schema: Mapping[str, Any], rng: random.Random, hints: Sequence[str] = ()) -> Any:
    """
    Return a value valid against `schema` (draft 2020-12), determined by the state of `rng`.

    Property names steer free text toward plausible values; `hints` are extra words woven into prose.
    """
    check_json_schema(schema)
    try:
        return _JsonWriter(schema, rng, hints).value(schema, (), "")
    except RecursionError:
        raise UnsupportedSchema("The schema at # is nested too deeply to generate a value.") from None
