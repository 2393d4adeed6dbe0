"""`python -m contract.drift`: the generated document against an upstream OpenAPI document.

The last tests run the real check when `PPLX_UPSTREAM_SPEC` names the upstream document (CI sets
it; users without the file skip them): every difference must be fixed or allow-listed in
contract/drift-allowlist.yaml with its reason, and every allow-list pattern must still match.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract import drift, drift_allowlist
from contract.spec import SPEC_PATH

OURS: dict[str, object] = {
    "openapi": "3.1.0",
    "paths": {
        "/search": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Res"}}}},
                    "400": {"description": "error envelope"},
                },
            }
        },
        "/only-ours": {"get": {"responses": {}}},
        "/jobs": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Req": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string"},
                    "mode": {"type": "string", "enum": ["web", "academic"]},
                    "max_results": {"type": "integer", "minimum": 1, "maximum": 20, "default": 10},
                },
            },
            "Res": {
                "type": "object",
                "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Page"}}},
            },
            "Page": {"type": "object", "properties": {"url": {"type": "string"}, "date": {"type": "string"}}},
        }
    },
}


def upstream() -> dict[str, object]:
    document = yaml.safe_load(yaml.safe_dump(OURS))
    schemas = document["components"]["schemas"]
    schemas["Req"]["properties"]["mode"]["enum"] = ["web", "sec"]
    schemas["Req"]["properties"]["max_results"] = {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 50}, {"type": "null"}],
        "default": 5,
    }
    schemas["Req"]["properties"]["country"] = {"type": "string"}
    schemas["Req"]["required"] = ["query", "mode"]
    del schemas["Page"]["properties"]["date"]
    del document["paths"]["/only-ours"]
    document["paths"]["/v1/embeddings"] = {"post": {"responses": {}}}
    responses = document["paths"]["/search"]["post"]["responses"]
    responses["422"] = responses.pop("400")
    document["paths"]["/jobs"]["get"]["parameters"] = [
        {"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}},
        {"name": "next_token", "in": "query", "schema": {"type": "string"}},
    ]
    return document


def write(tmp_path: Path, name: str, document: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_report_lists_every_kind_of_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours, theirs = write(tmp_path, "ours.yaml", OURS), write(tmp_path, "upstream.yaml", upstream())
    assert drift.main(["--ours", str(ours), "--upstream", str(theirs), "--no-allowlist"]) == 1
    report = capsys.readouterr().out
    assert "### POST /search" in report
    assert "- request: added upstream: `country` (string)" in report
    assert "- response: not upstream: `results[].date` (string)" in report
    assert "- request: type changed: `max_results` ours integer, upstream integer|null" in report
    assert "- request: required changed: `mode` is required upstream" in report
    assert "- request: enum value added upstream: `mode` = `sec`" in report
    assert "- request: enum value not upstream: `mode` = `academic`" in report
    assert "- request: limit changed: `max_results` maximum ours 20, upstream 50" in report
    assert "- request: default changed: `max_results` default ours 10, upstream 5" in report
    assert "- statuses: status added upstream: 422" in report
    assert "- statuses: status not upstream: 400" in report
    assert "### GET /jobs" in report
    assert "- parameters: required changed: `query.limit` is required upstream" in report
    assert "- parameters: limit changed: `query.limit` maximum ours 100, upstream none" in report
    assert "- parameters: added upstream: `query.next_token` (string)" in report
    assert "### POST /v1/embeddings\n- operation: upstream only" in report
    assert "### GET /only-ours\n- operation: not upstream" in report


def test_the_exit_status(tmp_path: Path) -> None:
    ours, theirs = write(tmp_path, "ours.yaml", OURS), write(tmp_path, "upstream.yaml", upstream())
    no_list = ["--ours", str(ours), "--no-allowlist"]
    assert drift.main([*no_list, "--upstream", str(theirs)]) == 1
    assert drift.main([*no_list, "--upstream", str(ours), "--fail-on-drift"]) == 0
    # Only an operation the mock does not serve is new upstream: a failure with --fail-on-drift only.
    only_new = yaml.safe_load(yaml.safe_dump(OURS))
    only_new["paths"]["/v1/embeddings"] = {"post": {"responses": {}}}
    new = write(tmp_path, "new.yaml", only_new)
    assert drift.main([*no_list, "--upstream", str(new)]) == 0
    assert drift.main([*no_list, "--upstream", str(new), "--fail-on-drift"]) == 1


ALLOWLIST = """
groups:
  search: &search ["POST /search"]
allow:
  - reason: every kind of search drift is deliberate here
    operations: [*search, "GET /jobs"]
    differences: ["*"]
  - reason: no embeddings, no only-ours route
    where: [operation]
    differences: ["upstream only", "not upstream"]
"""


def test_allow_listed_differences_are_suppressed_and_new_ones_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = write(tmp_path, "ours.yaml", OURS), write(tmp_path, "upstream.yaml", upstream())
    allowlist = tmp_path / "allow.yaml"
    allowlist.write_text(ALLOWLIST, encoding="utf-8")
    args = ["--ours", str(ours), "--allowlist", str(allowlist), "--fail-on-drift"]
    assert drift.main([*args, "--upstream", str(theirs)]) == 0
    report = capsys.readouterr().out
    assert "## Not allow-listed\n- none" in report
    assert "### every kind of search drift is deliberate here (" in report
    assert "- POST /search, request: added upstream: `country` (string)" in report
    assert "matched nothing" not in report

    # A new difference on an operation the mock serves, not covered by the list: exit 1, named.
    changed: dict[str, Any] = upstream()
    changed["paths"]["/only-ours"] = {"get": {"responses": {"404": {"description": "gone"}}}}
    assert drift.main([*args, "--upstream", str(write(tmp_path, "changed.yaml", changed))]) == 1
    report = capsys.readouterr().out
    assert "### GET /only-ours\n- statuses: status added upstream: 404" in report
    # ... and the pattern that covered the operation no longer matches anything: reported as stale.
    assert "## Allow-list patterns that matched nothing\n- no embeddings, no only-ours route: `not upstream`" in report


def test_a_pattern_is_literal_but_for_the_star() -> None:
    assert drift_allowlist.pattern("not upstream: `choices[].*` *").match("not upstream: `choices[].delta.x` (string)")
    assert not drift_allowlist.pattern("not upstream: `choices[].*` *").match("not upstream: `choicesX.delta` (string)")
    assert not drift_allowlist.pattern("status not upstream: 4").match("status not upstream: 404")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("allow: [{differences: ['*']}]", "`reason`"),
        ("allow: [{reason: why, differences: []}]", "`differences` is empty"),
        ("allow: [{reason: why, differences: ['*'], where: [body]}]", "unknown `where`"),
        ("allow: [{reason: why, differences: ['*'], operation: ['POST /search']}]", "keys are"),
        ("- reason: why", "`allow` list"),
    ],
)
def test_a_bad_allowlist_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(drift_allowlist.AllowlistError, match=problem):
        drift_allowlist.load_allowlist(path)


def test_the_checked_in_allowlist_loads() -> None:
    allowances = drift_allowlist.load_allowlist(drift_allowlist.ALLOWLIST_PATH)
    assert allowances and all(allowance.reason for allowance in allowances)


def test_the_upstream_defaults_to_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPLX_UPSTREAM_SPEC", str(write(tmp_path, "upstream.yaml", OURS)))
    assert drift.main(["--ours", str(write(tmp_path, "ours.yaml", OURS)), "--fail-on-drift"]) == 0
    monkeypatch.delenv("PPLX_UPSTREAM_SPEC")
    with pytest.raises(SystemExit):
        drift.main([])


def test_a_recursive_schema_ends(tmp_path: Path) -> None:
    document = {
        "paths": {},
        "components": {
            "schemas": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}}
        },
    }
    found = drift.fields(document, {"$ref": "#/components/schemas/Node"})
    assert "child" in found and len(found) < 20


UPSTREAM = os.environ.get("PPLX_UPSTREAM_SPEC")
needs_upstream = pytest.mark.skipif(
    not UPSTREAM or not Path(UPSTREAM).is_file(), reason="PPLX_UPSTREAM_SPEC is not set to a file"
)


@needs_upstream
def test_every_difference_from_the_real_upstream_is_allow_listed() -> None:
    assert UPSTREAM is not None
    result = drift.check(
        drift.load_document(str(SPEC_PATH)),
        drift.load_document(UPSTREAM),
        UPSTREAM,
        drift_allowlist.load_allowlist(drift_allowlist.ALLOWLIST_PATH),
    )
    assert "### POST /chat/completions" not in result.text.split("## Allow-listed")[0]
    unlisted = [str(difference) for difference in result.failing + result.unserved]
    assert not unlisted, "fix the model or allow-list (contract/drift-allowlist.yaml):\n" + "\n".join(unlisted)
    assert not result.unused, "stale allow-list patterns:\n" + "\n".join(result.unused)


@needs_upstream
def test_the_command_passes_on_the_real_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    assert UPSTREAM is not None
    assert drift.main(["--upstream", UPSTREAM, "--fail-on-drift"]) == 0
    assert "## Not allow-listed\n- none" in capsys.readouterr().out
