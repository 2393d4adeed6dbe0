"""Structured outputs: schema and regex checks, and generation that validates, deterministically."""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import json
import random
import re
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from mock_server.structured import (
    UnsupportedRegex,
    UnsupportedSchema,
    check_json_schema,
    check_regex,
    generate_from_regex,
    generate_json,
)

IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
SEEDS = range(8)

# jsonschema only checks date-time, time and uri when optional packages are installed, so check them here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("time", raises=ValueError)
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or dt.time.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def assert_valid(schema: dict[str, Any], value: Any) -> None:
    value = json.loads(json.dumps(value))  # what the API would actually send
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft202012Validator(schema, format_checker=FORMATS).iter_errors(value)
    ]
    assert not errors, (errors, value)


# --------------------------------------------------------------------------- pydantic models


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    street: str
    city: str
    country: str
    postcode: Annotated[str, Field(pattern=r"^[0-9]{5}(-[0-9]{4})?$")]


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: Annotated[int, Field(ge=1, le=9)]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Person(BaseModel):
    first_name: str
    last_name: str
    email: Annotated[str, Field(json_schema_extra={"format": "email"})]
    birthday: dt.date
    id: uuid.UUID
    age: Annotated[int, Field(ge=0, le=120)]
    height_m: Annotated[float, Field(gt=0.5, lt=2.5, multiple_of=0.01)]
    score: Annotated[int, Field(multiple_of=5, gt=0, le=100)]
    ratio: Annotated[float, Field(ge=0, le=1)]
    nickname: str | None = None
    favourite: Color
    priority: Priority = Priority.LOW
    kind: Literal["person", "robot"]
    tag: Literal["fixed"]
    address: Address
    previous: Annotated[list[Address], Field(max_length=2)] = []
    tags: set[str]
    point: tuple[int, str]
    code: Annotated[str, Field(min_length=3, max_length=8, pattern=r"^[A-Z]{2}\d+$")]
    website: AnyUrl
    ip: ipaddress.IPv4Address
    updated: dt.datetime
    alarm: dt.time
    note: Annotated[str, Field(max_length=10)] | None = None
    pet: Cat | Dog = Field(discriminator="kind")
    either: int | str


class Team(BaseModel):
    name: str
    founded_year: Annotated[int, Field(ge=1850, le=2024)]
    members: Annotated[list[Person], Field(min_length=1, max_length=3)]
    ratings: Annotated[list[Annotated[float, Field(ge=0, le=5, multiple_of=0.5)]], Field(min_length=2)]


class AnswerFormat(BaseModel):
    # The example from Perplexity's structured outputs guide.
    first_name: str
    last_name: str
    year_of_birth: int
    num_seasons_in_nba: int


class RecursiveJson(BaseModel):
    value: str
    children: list[RecursiveJson]


class Loose(BaseModel):
    data: dict[str, Any]


class Labels(BaseModel):
    labels: dict[str, int]


@pytest.mark.parametrize("model", [Person, Team, Address, AnswerFormat])
@pytest.mark.parametrize("seed", SEEDS)
def test_pydantic_schema_output_validates(model: type[BaseModel], seed: int) -> None:
    schema = model.model_json_schema()
    check_json_schema(schema)
    value = generate_json(schema, random.Random(seed))
    assert_valid(schema, value)
    model.model_validate_json(json.dumps(value))
    assert set(value) == set(schema["properties"])  # optional properties are present too


def test_person_output_is_plausible() -> None:
    person = generate_json(Person.model_json_schema(), random.Random(3))
    assert person["first_name"].isalpha() and person["first_name"][0].isupper()
    assert person["email"].endswith("@example.com")
    assert person["website"].startswith("https://")
    assert person["nickname"] is not None and person["note"] is not None  # Optional picks the non-null branch
    assert person["address"]["city"].isalpha() and person["address"]["country"][0].isupper()
    assert person["pet"]["kind"] in ("cat", "dog") and person["tag"] == "fixed"
    assert len(set(person["tags"])) == len(person["tags"])
    assert isinstance(person["point"][0], int) and isinstance(person["point"][1], str)


@pytest.mark.parametrize("seed", SEEDS)
def test_perplexity_doc_example_is_plausible(seed: int) -> None:
    answer = generate_json(AnswerFormat.model_json_schema(), random.Random(seed))
    for key in ("first_name", "last_name"):
        assert re.fullmatch(r"[A-Z][a-z]+", answer[key]), answer
    assert 1930 <= answer["year_of_birth"] <= 2010
    assert 1 <= answer["num_seasons_in_nba"] <= 25


def test_same_seed_same_output_and_seeds_differ() -> None:
    schema = Team.model_json_schema()
    first = generate_json(schema, random.Random(42), hints=("Chicago", "Bulls"))
    again = generate_json(schema, random.Random(42), hints=("Chicago", "Bulls"))
    assert json.dumps(first) == json.dumps(again)
    outputs = {json.dumps(generate_json(schema, random.Random(seed))) for seed in SEEDS}
    assert len(outputs) == len(SEEDS)


def test_hints_are_woven_into_free_text() -> None:
    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string"}, "title": {"type": "string"}},
        "required": ["summary", "title"],
    }
    value = generate_json(schema, random.Random(0), hints=("Jordan", "championships"))
    assert "Jordan" in value["summary"] or "championships" in value["summary"]
    assert value["summary"].endswith(".") and value["title"][0].isupper()


def test_property_names_steer_values() -> None:
    schema = {
        "type": "object",
        "required": ["url", "contact_email", "year", "countries", "anything", "whatever"],
        "properties": {
            "url": {"type": "string"},
            "contact_email": {"type": "string"},
            "year": {"type": "integer", "minimum": 2000},
            "whatever": True,
            "anything": {},
            "countries": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
    }
    for seed in SEEDS:
        value = generate_json(schema, random.Random(seed))
        assert_valid(schema, value)
        assert value["url"].startswith("https://") and "@" in value["contact_email"]
        assert 2000 <= value["year"] <= 2024
        assert all(c.isalpha() and c[0].isupper() for c in value["countries"])
        for key in ("anything", "whatever"):
            assert isinstance(value[key], str) and 0 < len(value[key]) <= 40


HAND_WRITTEN = [
    {"type": ["string", "null"], "minLength": 30, "maxLength": 40},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": "^abc$"},
    {"type": "string", "pattern": "[a-z]+", "minLength": 25},
    {"type": "string", "pattern": r"^\d{3}-\d{4}$", "format": "phone"},
    {"type": "string", "format": "ipv6"},
    {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 12},
    {"type": "integer", "minimum": -50, "maximum": -40, "multipleOf": 3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    {"type": "number", "minimum": 0.3, "maximum": 0.9, "multipleOf": 0.1},
    {"type": "integer", "multipleOf": 1.5, "minimum": 1},
    {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
    {"oneOf": [{"type": "string", "maxLength": 5}, {"type": "string", "minLength": 3}]},
    {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
    {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True, "minItems": 3},
    {"type": "array", "prefixItems": [{"const": 1}, {"type": "string"}], "items": False},
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 3},
        "minItems": 4,
        "maxItems": 4,
        "uniqueItems": True,
    },
    {
        "$defs": {"Base": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}},
        "allOf": [{"$ref": "#/$defs/Base"}, {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}],
    },
    {
        "type": "object",
        "properties": {"x": {"$ref": "#/properties/y"}, "y": {"type": "string", "format": "uuid"}},
        "additionalProperties": False,
    },
    {"enum": [1, "one", None], "type": "string"},
    {"not": {"type": "string"}},
    {"type": "integer", "minimum": 1, "maximum": 20, "not": {"const": 7}},
    {"type": "array", "contains": {"const": 42}, "items": {"type": "integer"}},
    {"type": "array", "prefixItems": [{"const": "x"}], "contains": {"type": "boolean"}, "minContains": 2},
    {"type": "string", "minLength": 400_000},
]


@pytest.mark.parametrize("schema", HAND_WRITTEN, ids=lambda s: json.dumps(s)[:60])
@pytest.mark.parametrize("seed", SEEDS)
def test_hand_written_schema_output_validates(schema: dict[str, Any], seed: int) -> None:
    check_json_schema(schema)
    value = generate_json(schema, random.Random(seed))
    assert_valid(schema, value)
    if "oneOf" in schema or "anyOf" in schema:
        assert value is not None  # a non-null branch is preferred


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


INDIRECT = {
    "$defs": {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "object", "properties": {"a": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}}},
    },
    "type": "object",
    "properties": {"root": {"$ref": "#/$defs/A"}},
}
UNSUPPORTED = [
    (model_schema(Loose), "#/properties/data", "unconstrained"),
    (model_schema(Labels), "#/properties/labels", "unconstrained"),
    (model_schema(RecursiveJson), "#/$defs/RecursiveJson/properties/children/items", "recursive"),
    (INDIRECT, "#/$defs/B/properties/a/anyOf/0", "recursive"),
    ({"type": "object", "properties": {"me": {"$ref": "#"}}}, "#/properties/me", "recursive"),
    ({"type": "object"}, "#", "unconstrained"),
    ({"type": "object", "additionalProperties": True}, "#", "unconstrained"),
    ({"properties": {"a": {"$ref": "https://example.com/a.json"}}}, "#/properties/a", "outside the document"),
    ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, "#/properties/a", "missing definition"),
    ({"properties": {"a": {"type": "str"}}}, "#/properties/a", "not a JSON Schema type"),
    ({"properties": {"a": {"type": ["string", "datetime"]}}}, "#/properties/a", "not a JSON Schema type"),
    ({"properties": {"a": {"enum": []}}}, "#/properties/a", "empty"),
    ({"properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}}, "#/properties/a", "empty"),
    ({"properties": {"a": {"type": "integer", "minimum": 0.2, "maximum": 0.8}}}, "#/properties/a", "empty"),
    ({"properties": {"a": {"type": "number", "exclusiveMinimum": 1, "maximum": 1}}}, "#/properties/a", "empty"),
    (
        {"properties": {"a": {"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}}},
        "#/properties/a",
        "empty",
    ),
    ({"properties": {"a": {"type": "string", "minLength": 4, "maxLength": 2}}}, "#/properties/a", "minLength"),
    ({"properties": {"a": {"type": "array", "minItems": 3, "maxItems": 1}}}, "#/properties/a", "minItems"),
    ({"properties": {"a": {"type": "string", "pattern": r"(a)\1"}}}, "#/properties/a", "Backreferences"),
    ({"properties": {"a": {"type": "string"}}, "required": ["b"]}, "#", "'b'"),
]


@pytest.mark.parametrize(("schema", "path", "reason"), UNSUPPORTED, ids=lambda x: json.dumps(x)[:50])
def test_unsupported_schema_names_the_path(schema: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(UnsupportedSchema) as checked:
        check_json_schema(schema)
    assert f" {path} " in str(checked.value) and reason in str(checked.value)
    with pytest.raises(UnsupportedSchema) as generated:
        generate_json(schema, random.Random(0))
    assert str(generated.value) == str(checked.value)


@pytest.mark.parametrize("schema", [[], "string", True, None])
def test_schema_must_be_an_object(schema: Any) -> None:
    with pytest.raises(UnsupportedSchema, match="must be a JSON object"):
        check_json_schema(schema)


def test_unused_definition_pointing_at_root_is_not_recursion() -> None:
    schema = {"$defs": {"Unused": {"$ref": "#"}}, "type": "object", "properties": {"a": {"type": "boolean"}}}
    check_json_schema(schema)  # must not raise
    assert isinstance(generate_json(schema, random.Random(0))["a"], bool)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 3_000_000},
        {"type": "array", "items": {"type": "integer"}, "minItems": 10_000_000},
        {"type": "array", "items": {"type": "string", "minLength": 1000}, "minItems": 1000},
    ],
    ids=["long-string", "long-array", "long-strings"],
)
def test_a_value_larger_than_any_answer_is_refused_before_it_is_built(schema: dict[str, Any]) -> None:
    # Building it would hold the event loop for minutes; no answer (128,000 tokens) could hold it.
    check_json_schema(schema)
    with pytest.raises(UnsupportedSchema, match="more than any answer can hold"):
        generate_json(schema, random.Random(0))


def test_a_not_that_no_draw_escapes_is_refused() -> None:
    schema = {"type": "boolean", "not": {"type": "boolean"}}
    with pytest.raises(UnsupportedSchema, match="satisfies its not"):
        generate_json(schema, random.Random(0))


def test_unsatisfiable_uniqueness_raises_instead_of_looping() -> None:
    schema = {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "minItems": 3}
    with pytest.raises(UnsupportedSchema, match="distinct"):
        generate_json(schema, random.Random(0))


# --------------------------------------------------------------------------- regex


@pytest.mark.parametrize("seed", range(30))
def test_ipv4_example_from_the_docs(seed: int) -> None:
    address = generate_from_regex(IPV4, random.Random(seed))
    assert re.fullmatch(IPV4, address)
    parts = address.split(".")
    assert len(parts) == 4 and all(0 <= int(p) <= 255 for p in parts)


SUPPORTED = [
    r"\d{3}",
    r"\w+",
    r"a\sb",
    r"a.c",
    r"[0-9A-Fa-f]{8}",
    r"[^x]{5}",
    r"ab*c",
    r"ab?c",
    r"a+b",
    r"x{3}",
    r"x{2,4}",
    r"x{3,}",
    r"cat|dog|bird",
    r"(ab)+",
    r"(?:ab|cd){2}",
    r"\.\*\+\?\(\)\[\]\{\}\|\\",
    r"(?=\d{3})\w{3}",
    r"(?!abc)[abc]{3}",
    r"(?=.*[A-Z])(?=.*\d)[A-Za-z\d]{8,}",
    r"(?i)hello [a-f]+",
    r"[\w.-]+@[a-z]+\.(?:com|org)",
    r"(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])",
    r"\D\W\S",
    r"[\u4e00-\u9fff]{2}",
    r"(?x) a  b # comment",
]


@pytest.mark.parametrize("pattern", SUPPORTED)
def test_supported_regex_output_fullmatches(pattern: str) -> None:
    check_regex(pattern)  # must not raise
    outputs = {generate_from_regex(pattern, random.Random(seed)) for seed in SEEDS}
    assert all(re.fullmatch(pattern, s) for s in outputs), outputs


def test_regex_output_is_readable_and_deterministic() -> None:
    assert generate_from_regex(r"\s", random.Random(0)) == " "
    assert re.fullmatch(r"[A-Za-z0-9]{40}", generate_from_regex(r".{40}", random.Random(0)))
    assert re.fullmatch(r"[A-Za-z0-9]{40}", generate_from_regex(r"[^,;]{40}", random.Random(0)))
    assert re.fullmatch(r"[A-Za-z0-9]{40}", generate_from_regex(r"\w{40}", random.Random(0)))
    assert "a" not in generate_from_regex(r"(?i)[^a]{40}", random.Random(0)).lower()
    lengths = {len(generate_from_regex(r"a+", random.Random(seed))) for seed in range(30)}
    assert min(lengths) == 1 and max(lengths) <= 4  # unbounded repeats stay short
    assert generate_from_regex(r"\w{12}", random.Random(7)) == generate_from_regex(r"\w{12}", random.Random(7))
    assert len({generate_from_regex(r"\w{12}", random.Random(seed)) for seed in SEEDS}) == len(SEEDS)


UNSUPPORTED_REGEX = [
    (r"^abc", "^"),
    (r"abc$", "$"),
    (r"\Aabc", r"\A"),
    (r"abc\Z", r"\Z"),
    (r"\bword", r"\b"),
    (r"a\Bb", r"\B"),
    (r"(?<=a)b", "(?<="),
    (r"(?<!a)b", "(?<!"),
    (r"(a)\1", "Backreferences"),
    (r"(?P<x>a)(?P=x)", "Backreferences"),
    (r"(a)?(?(1)b|c)", "Conditional"),
    (r"(unclosed", "does not compile"),
    (r"a{2,1}", "does not compile"),
]


@pytest.mark.parametrize(("pattern", "construct"), UNSUPPORTED_REGEX)
def test_unsupported_regex_names_the_construct(pattern: str, construct: str) -> None:
    with pytest.raises(UnsupportedRegex) as checked:
        check_regex(pattern)
    assert construct in str(checked.value)
    with pytest.raises(UnsupportedRegex):
        generate_from_regex(pattern, random.Random(0))


@pytest.mark.parametrize("pattern", [r"(?=a)b", r"[^\s\S]", r"(?!\d)\d"])
def test_unsatisfiable_regex_raises(pattern: str) -> None:
    check_regex(pattern)  # must not raise
    with pytest.raises(UnsupportedRegex, match="produce"):
        generate_from_regex(pattern, random.Random(0))


ATOMS = st.sampled_from([r"a", r"Z", r"7", r"\d", r"\w", r"\s", r".", r"[a-c]", r"[^x]", r"[0-9A-F]", r"\.", r"\-"])
QUANTIFIERS = st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{2,}", "*?", "+?"])
REGEXES = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map("".join),
        st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        st.tuples(inner, QUANTIFIERS).map(lambda t: f"(?:{t[0]}){t[1]}"),
        inner.map(lambda r: f"({r})"),
    ),
    max_leaves=8,
)


@settings(max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=REGEXES, seed=st.integers(0, 2**16))
def test_generated_regexes_fullmatch(pattern: str, seed: int) -> None:
    check_regex(pattern)  # must not raise
    assert re.fullmatch(pattern, generate_from_regex(pattern, random.Random(seed)))
