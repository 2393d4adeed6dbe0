"""Browsers' CORS preflights of API routes, and paths the mock does not serve."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

pytestmark = pytest.mark.anyio

PREFLIGHT = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}


async def test_a_preflight_of_an_api_route_is_allowed_without_a_key(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as anonymous:
        response = await anonymous.options(
            "/chat/completions", headers={**PREFLIGHT, "Access-Control-Request-Headers": "authorization,content-type"}
        )
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"] == "authorization,content-type"
    assert int(response.headers["access-control-max-age"]) > 0
    assert response.headers["x-request-id"]
    # Not API traffic: neither journalled nor counted by a scenario.
    assert app.state.mock.journal.entries("") == []


async def test_a_preflight_names_the_methods_of_its_path(client: httpx.AsyncClient) -> None:
    job = await client.options("/async/chat/completions/some-job", headers=PREFLIGHT)
    jobs = await client.options("/v1/async/sonar", headers=PREFLIGHT)
    assert (job.status_code, job.headers["access-control-allow-methods"]) == (204, "GET")
    assert (jobs.status_code, jobs.headers["access-control-allow-methods"]) == (204, "GET, POST")
    assert "access-control-allow-headers" not in job.headers


async def test_options_without_a_preflight_or_on_an_unknown_path_is_refused_bare(client: httpx.AsyncClient) -> None:
    plain = await client.options("/chat/completions")
    unknown = await client.options("/v1/chat/completions", headers=PREFLIGHT)
    assert (plain.status_code, plain.content, plain.headers["allow"]) == (405, b"", "POST")
    assert (unknown.status_code, unknown.content) == (404, b"")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/chat/completions/"), ("POST", "/search/"), ("GET", "/healthz/")]
)
async def test_a_trailing_slash_is_a_path_the_api_does_not_serve(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={} if method == "POST" else None)
    assert (response.status_code, response.content) == (404, b"")
