"""Fixture files: validated at load time with the file and field named; matched by their rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.fixtures import FixtureError, load_fixture, load_fixtures
from mock_server.settings import bundled_fixtures_dir

GOOD_BODY = {
    "id": "x",
    "model": "sonar",
    "created": 1,
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "hi"},
            "delta": {"role": "assistant", "content": ""},
        }
    ],
}


def write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(data) if name.endswith(".json") else data, encoding="utf-8")
    return path


def fixture(match: dict[str, Any] | None = None, **response: Any) -> dict[str, Any]:
    return {"endpoint": "chat.completions", "match": match or {}, "response": response or {"body": GOOD_BODY}}


def test_starter_fixtures_load_and_validate() -> None:
    store = load_fixtures(bundled_fixtures_dir())
    assert len(store.fixtures) >= 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"endpoint": "chat.completions"}, "response: Field required"),
        ({**fixture(), "endpoint": "telepathy"}, "endpoint: Input should be 'chat.completions'"),
        ({**fixture(), "colour": "red"}, "colour: Extra inputs are not permitted"),
        (
            fixture({"last_user_message": {"equals": "a", "contains": "b"}}),
            "give exactly one of equals, contains, regex",
        ),
        (fixture({"last_user_message": {"regex": "("}}), "regex does not compile"),
        (fixture(body={**GOOD_BODY, "choices": [{"index": 0}]}), "response.body.choices.0.message: Field required"),
        (fixture(status=200), "give a body, a stream, or both"),
        (fixture(status=429, body={"error": {"message": "slow down"}}), "response.body.error.type: Field required"),
        (fixture(stream=[{"at": 0, "data": {"id": 1}}]), "response.stream.0.data.id: Input should be a valid string"),
        (
            fixture(stream=[{"at": -1, "data": "[DONE]"}]),
            "response.stream.0.at: Input should be greater than or equal to 0",
        ),
    ],
)
def test_broken_fixtures_name_the_file_and_field(tmp_path: Path, content: Any, message: str) -> None:
    path = write(tmp_path, "broken.json", content)
    with pytest.raises(FixtureError) as caught:
        load_fixture(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.json", "{nope"),
        ("bad.yaml", "endpoint: [unclosed"),
        # Past what the parsers take: the stack (RecursionError), and int()'s digits (ValueError).
        ("deep.json", "[" * 2000 + "]" * 2000),
        ("deep.yaml", "[" * 2000 + "]" * 2000),
        ("long.json", '{"priority": ' + "1" * 5000 + "}"),
        ("long.yaml", "priority: " + "1" * 5000),
    ],
)
def test_unparsable_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FixtureError, match=f"^{path}: not valid"):
        load_fixture(path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="not found"):
        load_fixtures(tmp_path / "absent")


def test_matching_rules_and_precedence(tmp_path: Path) -> None:
    write(tmp_path, "a-generic.json", fixture({"model": "sonar"}))
    write(
        tmp_path, "b-specific.json", fixture({"model": ["sonar", "sonar-pro"], "last_user_message": {"regex": "^When"}})
    )
    write(tmp_path, "c-priority.json", {**fixture({"body": {"search_mode": "academic"}}), "priority": 5})
    write(tmp_path, "d-stream-only.json", fixture({"model": "sonar-pro"}, stream=[{"at": 0, "data": "[DONE]"}]))
    store = load_fixtures(tmp_path)

    def winner(payload: dict[str, Any], question: str = "What?") -> str | None:
        found = store.match("chat.completions", payload, [question])
        return found.name if found else None

    assert winner({"model": "sonar"}) == "a-generic"
    assert winner({"model": "sonar"}, "When is it?") == "b-specific"
    assert winner({"model": "sonar", "search_mode": "academic"}, "When is it?") == "c-priority"
    assert winner({"model": "sonar-pro"}) is None
    assert winner({"model": "sonar-pro", "stream": True}) == "d-stream-only"
    assert winner({"model": "sonar-deep-research"}) is None
    assert store.match("search", {"model": "sonar"}, ["What?"]) is None
