"""`python -m contract.drift`: the generated document against an upstream OpenAPI document."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from contract import drift
from contract.spec import SPEC_PATH

OURS: dict[str, object] = {
    "openapi": "3.1.0",
    "paths": {
        "/search": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Res"}}}}
                },
            }
        },
        "/only-ours": {"get": {"responses": {}}},
    },
    "components": {
        "schemas": {
            "Req": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string"},
                    "mode": {"type": "string", "enum": ["web", "academic"]},
                    "max_results": {"type": "integer"},
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
    schemas["Req"]["properties"]["max_results"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    schemas["Req"]["properties"]["country"] = {"type": "string"}
    schemas["Req"]["required"] = ["query", "mode"]
    del schemas["Page"]["properties"]["date"]
    del document["paths"]["/only-ours"]
    document["paths"]["/v1/embeddings"] = {"post": {"responses": {}}}
    return document


def write(tmp_path: Path, name: str, document: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_report_lists_every_kind_of_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours, theirs = write(tmp_path, "ours.yaml", OURS), write(tmp_path, "upstream.yaml", upstream())
    assert drift.main(["--ours", str(ours), "--upstream", str(theirs)]) == 0
    report = capsys.readouterr().out
    assert "## POST /search" in report
    assert "- added upstream: `country` (string)" in report
    assert "- not upstream: `results[].date` (string)" in report
    assert "- type changed: `max_results` ours integer, upstream integer|null" in report
    assert "- required changed: `mode` is required upstream" in report
    assert "- enum value added upstream: `mode` = `sec`" in report
    assert "- enum value not upstream: `mode` = `academic`" in report
    assert "- upstream only: POST /v1/embeddings" in report
    assert "- ours only: GET /only-ours" in report


def test_fail_on_drift_sets_the_exit_status(tmp_path: Path) -> None:
    ours, theirs = write(tmp_path, "ours.yaml", OURS), write(tmp_path, "upstream.yaml", upstream())
    assert drift.main(["--ours", str(ours), "--upstream", str(theirs), "--fail-on-drift"]) == 1
    assert drift.main(["--ours", str(ours), "--upstream", str(ours), "--fail-on-drift"]) == 0


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


@pytest.mark.skipif(not UPSTREAM or not Path(UPSTREAM).is_file(), reason="PPLX_UPSTREAM_SPEC is not set to a file")
def test_the_report_runs_on_the_real_upstream_document() -> None:
    assert UPSTREAM is not None
    text, _ = drift.report(drift.load_document(str(SPEC_PATH)), drift.load_document(UPSTREAM), UPSTREAM)
    assert "## POST /chat/completions" in text
