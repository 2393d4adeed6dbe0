"""`--strictness spec`: every request contract/openapi.yaml allows gets a conforming success.

Schemathesis generates only positive cases (schema-valid requests, its coverage phase's boundary
values included) for every operation and sends them to a mock built with `strictness = "spec"`.
Each answer must be no 5xx, a documented status and content type, a body (or every stream event)
that matches its schema, and a 2xx: `positive_data_acceptance`, which stays off in the faithful
suite (contract/test_mock.py) because the real API refuses some schema-valid requests.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from contract.schemas import SearchResponse
from contract.spec import SPEC_PATH
from contract.targets import CONFIG_PATH, MOCK_ENVIRONMENT, MOCK_KEY, bearer
from mock_server import create_app
from mock_server.settings import Settings, load_settings
from tests.conftest import AUTH

# Per operation, in the fuzzing phase (the coverage phase adds its boundary cases): keeps the
# whole module to a few seconds.
MAX_EXAMPLES = 15
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
)


def spec_mode_config() -> SchemathesisConfig:
    """The suite's settings (contract/schemathesis.toml), positive cases only and these checks."""
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["generation"] = {**data.get("generation", {}), "mode": "positive", "max-examples": MAX_EXAMPLES}
    data["checks"] = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    return SchemathesisConfig.from_dict(data)


CONFIG = spec_mode_config()
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
Case = schemathesis.Case[Any]


@pytest.fixture(scope="module")
def spec_mock() -> Iterator[Any]:
    # Module-scoped: Hypothesis runs many examples per test and must not see a function-scoped fixture.
    settings = load_settings(environ={**MOCK_ENVIRONMENT, "MOCK_STRICTNESS": "spec"})
    max_stream_events = CONFIG.projects.get_default().max_stream_events_for()
    # schemathesis types ASGI apps with `dict` scopes; Starlette's are `MutableMapping`s.
    with asgi.get_client(create_app(settings), max_stream_events=max_stream_events) as client:  # type: ignore[arg-type]
        yield client


@schema.parametrize()
def test_every_schema_valid_request_succeeds(case: Case, spec_mock: Any) -> None:
    headers = bearer(MOCK_KEY)
    response = case.call(base_url=spec_mock.base_url, session=spec_mock, headers=headers)
    case.validate_response(
        response, headers=headers, transport_kwargs={"base_url": spec_mock.base_url, "session": spec_mock}
    )


# -- what the generated cases found: each a schema-valid request once refused in spec mode ---------


def spec_client() -> httpx.AsyncClient:
    app = create_app(Settings(time_scale=0, rate_limits="off", strictness="spec"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=AUTH)


@pytest.mark.anyio
async def test_an_integral_number_is_an_integer() -> None:
    body = {"model": "sonar", "messages": [{"role": "user", "content": "Hi"}], "num_images": 3.0, "max_tokens": 64.0}
    async with spec_client() as client:
        response = await client.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "extra",
    [
        {"search_after_date_filter": "02/30/2025"},
        {"search_recency_filter": "week", "search_before_date_filter": "01/01/2025"},
        {"search_after_date_filter": "01/01/2026", "search_before_date_filter": "01/01/2020"},
        {"search_domain_filter": ["-"]},
        {"query": " ", "max_results": 2.0},
    ],
)
async def test_a_schema_valid_search_succeeds(extra: dict[str, Any]) -> None:
    async with spec_client() as client:
        response = await client.post("/search", json={"query": "Paris", **extra})
    assert response.status_code == 200, response.text
    assert SearchResponse.model_validate(response.json())


@pytest.mark.anyio
async def test_a_search_against_the_schema_is_still_refused() -> None:
    async with spec_client() as client:
        response = await client.post("/search", json={"query": "Paris", "max_results": 51})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_parameter"


@pytest.mark.anyio
async def test_an_unknown_page_token_ends_the_list() -> None:
    async with spec_client() as client:
        response = await client.get("/async/chat/completions", params={"next_token": "not-ours"})
    assert response.status_code == 200, response.text
    assert response.json() == {"requests": [], "next_token": None}
