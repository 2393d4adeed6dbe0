"""Who may use /_mock/: loopback callers, and others only with the admin token; its settings."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.settings import SettingsError, load_settings
from tests.conftest import make_app

TOKEN = "s3cret-admin-token"
REMOTE = ("203.0.113.5", 1234)


def remote_client(app: Starlette, client: tuple[str, int] = REMOTE) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://mock")


ENDPOINTS = [
    ("GET", "/_mock/requests", None),
    ("POST", "/_mock/reset", {}),
    ("POST", "/_mock/clock/advance", {"seconds": 0}),
    ("GET", "/_mock/tiers?key=pplx-a", None),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {TOKEN}"}, {"X-Mock-Admin-Token": TOKEN}, {"authorization": f"bearer {TOKEN}"}],
)
async def test_the_admin_token_opens_the_control_plane_to_remote_callers(
    method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    async with remote_client(make_app(admin_token=TOKEN)) as client:
        assert (await client.request(method, path, json=body)).status_code == 403
        assert (await client.request(method, path, json=body, headers=headers)).status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"X-Mock-Admin-Token": TOKEN[:-1]},
        {"Authorization": "Bearer "},
    ],
)
async def test_a_wrong_or_missing_token_is_403(headers: dict[str, str]) -> None:
    async with remote_client(make_app(admin_token=TOKEN)) as client:
        response = await client.get("/_mock/requests", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"


@pytest.mark.anyio
async def test_without_the_setting_remote_callers_are_refused_whatever_they_send() -> None:
    async with remote_client(make_app()) as client:
        response = await client.get("/_mock/requests", headers={"X-Mock-Admin-Token": TOKEN})
    assert response.status_code == 403


@pytest.mark.anyio
@pytest.mark.parametrize("loopback", [("127.0.0.1", 1), ("::1", 1)])
async def test_loopback_callers_need_no_token(loopback: tuple[str, int]) -> None:
    async with remote_client(make_app(admin_token=TOKEN), loopback) as client:
        assert (await client.get("/_mock/requests")).status_code == 200


@pytest.mark.anyio
async def test_the_admin_token_is_not_an_api_key() -> None:
    async with remote_client(make_app(admin_token=TOKEN)) as client:
        response = await client.post("/search", json={"query": "x"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 401


def test_settings_from_the_environment() -> None:
    settings = load_settings(environ={"MOCK_JOURNAL_SIZE": "5", "MOCK_ADMIN_TOKEN": TOKEN})
    assert settings.journal_size == 5
    assert settings.admin_token is not None and settings.admin_token.get_secret_value() == TOKEN
    # The token stays out of logs and reprs.
    assert TOKEN not in repr(settings)
    assert load_settings(environ={}).journal_size == 1000
    assert load_settings(environ={}).admin_token is None


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"MOCK_JOURNAL_SIZE": "0"}, "environment: journal_size: Input should be greater than 0"),
        ({"MOCK_ADMIN_TOKEN": ""}, "environment: admin_token: Value should have at least 1 item"),
    ],
)
def test_bad_control_plane_settings(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        load_settings(environ=environ)
