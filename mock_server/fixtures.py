"""Fixtures: recorded or curated interactions, loaded and validated at start-up.

One file per interaction, JSON or YAML, anywhere below the fixtures directory:

    endpoint: chat.completions
    match:                      # every given criterion must hold
      model: sonar-pro          # a name or a list of names
      stream: true              # optional: only streamed (or only non-streamed) requests
      last_user_message: {contains: "inference throughput"}   # or equals / regex
      body: {search_mode: academic}                            # other request fields, by equality
                                # (a request asking for a response_format needs a fixture matching it)
    priority: 0                 # higher wins; then the more specific; then the file path
    response:
      status: 200
      headers: {}
      body: {...}               # a chat completion, or an error envelope for status >= 400
      stream:                   # or a recorded stream, replayed verbatim
        - {at: 0.42, data: {...}}
        - {at: 1.9, data: "[DONE]"}

A broken file stops start-up with its path and the failing field named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contract.schemas import ChatCompletion, ErrorResponse, SearchResponse
from mock_server.scrub import find_secret

Endpoint = Literal["chat.completions", "search"]
RESPONSE_MODELS: dict[str, type[BaseModel]] = {"chat.completions": ChatCompletion, "search": SearchResponse}
SUFFIXES = (".json", ".yaml", ".yml")
# The search corpus lives beside the fixtures but is not made of interactions (see corpus.py).
CORPUS_DIRECTORY = "corpus"


class FixtureError(Exception):
    """A fixture file cannot be used; the message is one line naming the file and the field."""


class TextMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equals: str | None = None
    contains: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TextMatch:
        given = [name for name in ("equals", "contains", "regex") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, contains, regex")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return self

    def matches(self, text: str) -> bool:
        if self.equals is not None:
            return text == self.equals
        if self.contains is not None:
            return self.contains in text
        return re.search(str(self.regex), text) is not None


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | list[str] | None = None
    stream: bool | None = None
    last_user_message: TextMatch | None = None  # chat completions
    query: TextMatch | None = None  # search: any one of the request's queries
    body: dict[str, Any] = Field(default_factory=dict)

    def specificity(self) -> int:
        criteria = (self.model, self.stream, self.last_user_message, self.query)
        return sum(x is not None for x in criteria) + len(self.body)


class StreamEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: float = Field(ge=0)
    data: dict[str, Any] | str


class FixtureResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int = Field(default=200, ge=200, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    stream: list[StreamEvent] | None = None

    @model_validator(mode="after")
    def _has_content(self) -> FixtureResponse:
        if self.body is None and self.stream is None:
            raise ValueError("give a body, a stream, or both")
        if self.stream is not None and self.status != 200:
            raise ValueError("a stream is only valid with status 200")
        return self


class FixtureFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: Endpoint
    description: str | None = None
    match: Match = Field(default_factory=Match)
    priority: int = 0
    response: FixtureResponse
    recorded_at: str | None = None
    source: str | None = None
    # What `pplx-mock record` sent upstream (scrubbed), for reference only: never used to match.
    request: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _criteria_fit_the_endpoint(self) -> FixtureFile:
        if self.endpoint == "search":
            misplaced = [
                name for name in ("model", "stream", "last_user_message") if getattr(self.match, name) is not None
            ]
            if misplaced:
                raise ValueError(f"match.{misplaced[0]} does not apply to search; use match.query or match.body")
            if self.response.stream is not None:
                raise ValueError("response.stream does not apply to search")
        elif self.match.query is not None:
            raise ValueError("match.query applies to search; use match.last_user_message")
        return self


@dataclass(frozen=True)
class Fixture:
    path: Path
    spec: FixtureFile

    @property
    def name(self) -> str:
        return self.path.stem

    def matches(self, payload: dict[str, Any], texts: list[str]) -> bool:
        """`texts`: the last user message of a chat request, or the queries of a search."""
        match = self.spec.match
        if match.model is not None:
            models = [match.model] if isinstance(match.model, str) else match.model
            if payload.get("model") not in models:
                return False
        if match.stream is not None and bool(payload.get("stream")) != match.stream:
            return False
        text_match = match.last_user_message or match.query
        if text_match is not None and not any(text_match.matches(text) for text in texts):
            return False
        if self.spec.response.body is None and not payload.get("stream"):
            return False  # a stream-only fixture cannot answer a JSON request
        if asks_for_a_format(payload) and "response_format" not in match.body:
            # An answer in a requested format (JSON Schema, regex) comes only from a fixture for
            # that format: one matched on the question alone would answer prose, or other JSON.
            return False
        return all(payload.get(key) == value for key, value in match.body.items())


def asks_for_a_format(payload: dict[str, Any]) -> bool:
    """Whether a chat request asks for structured output (`response_format` other than text)."""
    response_format = payload.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") not in (None, "text")


@dataclass
class FixtureStore:
    fixtures: list[Fixture] = field(default_factory=list)
    directory: Path | None = None
    # Changes whenever a fixture is added, so what was learned from earlier matching can be dropped.
    generation: int = 0

    def label(self, fixture: Fixture | None) -> str | None:
        """How the journal names a fixture: its path below the fixtures directory (None: no fixture)."""
        if fixture is None:
            return None
        if self.directory is not None and fixture.path.is_relative_to(self.directory):
            return fixture.path.relative_to(self.directory).as_posix()
        return fixture.path.name

    def match(self, endpoint: str, payload: dict[str, Any], texts: list[str]) -> Fixture | None:
        for fixture in self.fixtures:
            if fixture.spec.endpoint == endpoint and fixture.matches(payload, texts):
                return fixture
        return None

    def add(self, fixture: Fixture) -> None:
        self.fixtures.append(fixture)
        self.fixtures.sort(key=_precedence)
        self.generation += 1


def load_fixtures(directory: Path) -> FixtureStore:
    if not directory.is_dir():
        raise FixtureError(f"fixtures directory {directory}: not found")
    paths = [
        path
        for path in sorted(directory.rglob("*"))
        if path.suffix in SUFFIXES and CORPUS_DIRECTORY not in path.relative_to(directory).parts[:1]
    ]
    fixtures = [load_fixture(path) for path in paths]
    fixtures.sort(key=_precedence)
    return FixtureStore(fixtures, directory)


def _precedence(fixture: Fixture) -> tuple[int, int, str]:
    return (-fixture.spec.priority, -fixture.spec.match.specificity(), str(fixture.path))


def load_fixture(path: Path) -> Fixture:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: cannot be read ({exc})") from None
    secret = find_secret(text)
    if secret is not None:
        raise FixtureError(f"{path}: {secret}: contains a key-shaped string (an API key or bearer token); scrub it")
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:
        # Besides bad syntax: a number `int()` refuses (thousands of digits), and nesting deep
        # enough to exhaust the parser's stack.
        raise FixtureError(f"{path}: not valid {path.suffix.lstrip('.').upper()} ({one_line(exc)})") from None
    try:
        spec = FixtureFile.model_validate(raw)
    except ValidationError as exc:
        raise FixtureError(f"{path}: {first_error(exc)}") from None
    _validate_content(path, spec)
    return Fixture(path, spec)


def _validate_content(path: Path, spec: FixtureFile) -> None:
    response = spec.response
    model = RESPONSE_MODELS[spec.endpoint] if response.status < 400 else ErrorResponse
    if response.body is not None:
        try:
            model.model_validate(response.body)
        except ValidationError as exc:
            raise FixtureError(f"{path}: response.body.{first_error(exc)}") from None
    for index, event in enumerate(response.stream or ()):
        if isinstance(event.data, dict):
            try:
                model.model_validate(event.data)
            except ValidationError as exc:
                raise FixtureError(f"{path}: response.stream.{index}.data.{first_error(exc)}") from None


def first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    location = ".".join(str(part) for part in error["loc"]) or "(root)"
    return f"{location}: {error['msg']}"


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
