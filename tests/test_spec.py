"""The checked-in OpenAPI document is what the models generate, and it covers every API route."""

from __future__ import annotations

from starlette.routing import Route

from contract.openapi import OPERATIONS, render_document
from contract.spec import SPEC_PATH, load_spec
from mock_server.routes import ROUTES

# Routes about the mock itself, deliberately outside the API's document.
MOCK_ONLY_PATHS = {"/openapi.json", "/healthz"}


def test_checked_in_document_is_fresh() -> None:
    assert SPEC_PATH.read_text(encoding="utf-8") == render_document(), (
        "contract/openapi.yaml is stale: run `python -m contract.openapi` and commit the result"
    )


def test_every_api_route_is_in_the_document() -> None:
    served = {
        (route.path, method.lower())
        for route in ROUTES
        if isinstance(route, Route) and route.path not in MOCK_ONLY_PATHS and not route.path.startswith("/_mock/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in load_spec()["paths"].items() for method in item}
    assert served == documented


def test_operation_ids_are_unique() -> None:
    ids = [operation.operation_id for operation in OPERATIONS]
    assert len(ids) == len(set(ids))
