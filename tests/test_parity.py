"""`python -m contract.parity`: two mocks side by side, one with a default fault, so answers differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract import parity
from tests.conftest import LiveServer, make_app


def test_parity_reports_what_differs_between_two_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The second mock ends every stream without `data: [DONE]`: only the stream scenario differs.
    with LiveServer(make_app(rate_limits="off", faults="stream-no-done")) as faulty:
        assert parity.main(["--a", "inprocess", "--b", faulty.base_url, "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "parity.json").read_text(encoding="utf-8"))
    by_name = {scenario["name"]: scenario for scenario in results["scenarios"]}
    assert set(by_name) == {scenario.name for scenario in parity.SCENARIOS}
    stream = {row["path"]: row for row in by_name["chat-stream"]["fields"]}
    assert stream["<stream>"]["verdict"] == "differs"
    assert stream["<stream>"]["b"] == "no [DONE] at the end"
    assert stream["<status>"]["verdict"] == "conforms"
    for name in ("chat-json", "search", "chat-invalid-model", "search-invalid-body", "chat-missing-key"):
        assert {row["verdict"] for row in by_name[name]["fields"]} == {"conforms"}, name
    statuses = {name: next(r["a"] for r in s["fields"] if r["path"] == "<status>") for name, s in by_name.items()}
    assert statuses["chat-missing-key"] == "401"
    assert statuses["chat-invalid-model"] == "400"
    report = (tmp_path / "parity.md").read_text(encoding="utf-8")
    assert "| `<stream>` | ends with [DONE] | no [DONE] at the end | differs |" in report
    assert "1 field paths differ" in capsys.readouterr().out


def test_field_paths_merge_array_items_and_compare_marks_missing() -> None:
    paths = parity.field_paths({"a": [{"b": 1}, {"c": None}], "d": "x"})
    assert paths == {"a": "array", "a[]": "object", "a[].b": "number", "a[].c": "null", "d": "string"}
    rows = parity.compare({"x": "string", "y": "number"}, {"x": "null", "z": "string"})
    assert [(row["path"], row["verdict"]) for row in rows] == [("x", "differs"), ("y", "missing"), ("z", "missing")]
