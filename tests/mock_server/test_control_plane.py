"""Who may use /_mock/: loopback callers, and others only with the admin token; its settings."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.clock import Clock
from mock_server.settings import SettingsError, load_settings
from tests.conftest import AUTH, chat_body, make_app

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


# What `curl -d '{...}'` sends without `-H 'Content-Type: application/json'`.
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_mock/clock/advance", b'{"seconds": 90}'),
        ("/_mock/tiers", b'{"key": "pplx-local", "tier": 0}'),
        ("/_mock/reset", b'{"all": true}'),
        ("/_mock/faults", b'{"default": "latency=0.5"}'),
        ("/_mock/scenarios", b'{"key": "pplx-local", "steps": {"3": "status=429;retry-after-ms=200"}}'),
    ],
)
@pytest.mark.parametrize("content_type", [FORM, {"Content-Type": "text/plain"}, {}])
async def test_control_plane_bodies_are_json_whatever_their_content_type(
    path: str, body: bytes, content_type: dict[str, str]
) -> None:
    async with remote_client(make_app(), ("127.0.0.1", 1)) as client:
        assert (await client.post(path, content=body, headers=content_type)).status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", [FORM, {"Content-Type": "text/plain"}])
async def test_a_web_page_cannot_post_to_the_control_plane_without_a_preflight(content_type: dict[str, str]) -> None:
    # A page may post a form or text anywhere without asking; JSON needs a preflight, which the
    # control plane does not answer. So from a browser (an Origin) only JSON is read.
    app = make_app()
    async with remote_client(app, ("127.0.0.1", 1)) as client:
        headers = {**content_type, "Origin": "https://some.site.example"}
        posted = await client.post("/_mock/clock/advance", content=b'{"seconds": 90}', headers=headers)
        preflight = await client.options(
            "/_mock/clock/advance",
            headers={"Origin": "https://some.site.example", "Access-Control-Request-Method": "POST"},
        )
    assert posted.status_code == 415 and preflight.status_code == 405
    assert app.state.mock.clock._offset == 0


@pytest.mark.anyio
async def test_the_api_keeps_its_415_for_a_form_content_type() -> None:
    async with remote_client(make_app(), ("127.0.0.1", 1)) as client:
        headers = {**FORM, "Authorization": "Bearer pplx-local"}
        response = await client.post("/search", content=b'{"query": "paris"}', headers=headers)
    assert response.status_code == 415 and response.json()["error"]["type"] == "unsupported_media_type"


DEEP = b"[" * 2000 + b"]" * 2000  # under 4 KB
LONG_NUMBER = b'{"seed": ' + b"1" * 5000 + b"}"  # over the 4 KB of the clock's, tiers' and reset's bodies


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_mock/clock/advance", DEEP),
        ("/_mock/tiers", DEEP),
        ("/_mock/reset", DEEP),
        ("/_mock/faults", DEEP),
        ("/_mock/scenarios", DEEP),
        ("/_mock/faults", LONG_NUMBER),
        ("/_mock/scenarios", LONG_NUMBER),
    ],
)
async def test_control_plane_bodies_json_cannot_represent_are_a_400(path: str, body: bytes) -> None:
    async with remote_client(make_app(), ("127.0.0.1", 1)) as client:
        response = await client.post(path, content=body)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request"
    assert response.json()["error"]["message"].startswith("Request body is not valid JSON: ")


T0 = 1_780_000_000.0
# 9999-01-01T00:00:00Z, past which the clock cannot go.
CLOCK_LIMIT = 253_370_764_800


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b'{"seconds": 300000000000}',  # year 11533: every chat and search answered 500 after it
        b'{"seconds": 1e300}',
        b'{"seconds": 1' + b"0" * 400 + b"}",  # an integer `math.isfinite` overflowed on
        b'{"seconds": Infinity}',
        b'{"seconds": NaN}',
        b'{"seconds": 251590764801}',  # one second past the limit
    ],
)
async def test_the_clock_cannot_be_advanced_past_what_the_mock_can_represent(body: bytes) -> None:
    app = make_app(Clock(source=lambda: T0))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        refused = await client.post("/_mock/clock/advance", content=body)
        assert refused.json()["error"] == {
            "message": "`seconds` must be a finite number from 0 to 251590764800: the clock cannot pass "
            "9999-01-01T00:00:00Z.",
            "type": "invalid_parameter",
            "code": 400,
        }
        # Up to the limit, everything that shows a date still answers.
        assert (await client.post("/_mock/clock/advance", json={"seconds": CLOCK_LIMIT - T0})).status_code == 200
        assert app.state.mock.clock.time() == CLOCK_LIMIT
        assert (await client.post("/chat/completions", json=chat_body())).status_code == 200
        assert (await client.post("/search", json={"query": "paris", "display_server_time": True})).status_code == 200
        job = {"request": chat_body("sonar-deep-research")}
        assert (await client.post("/async/chat/completions", json=job)).status_code == 200
        assert (await client.post("/_mock/clock/advance", json={"seconds": 1})).status_code == 400
