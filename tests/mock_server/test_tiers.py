"""Usage tiers: from the key's name, the keys file, the default, and POST /_mock/tiers at runtime."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.auth import KeyStore
from mock_server.clock import Clock
from mock_server.tiers import Tiers
from tests.conftest import chat_body, make_app


@pytest.mark.parametrize(
    ("key", "tier"),
    [
        ("pplx-ci-tier0-abc", 0),
        ("pplx-tier3", 3),
        ("pplx-a-tier5-b-tier1-c", 5),
        ("pplx-tier7-x", 4),  # no such tier: the default
        ("pplx-tier10", 4),
        ("pplx-xtier2", 4),
        ("pplx-tier2x", 4),
        ("pplx-local", 4),
    ],
)
def test_tier_from_the_key_name(key: str, tier: int) -> None:
    assert Tiers(default=4).tier_of(key) == tier


def test_the_keys_file_beats_the_name_and_runtime_beats_both() -> None:
    tiers = Tiers(default=5, keys=KeyStore({"pplx-ci-tier0-a": 2, "pplx-ci-tier0-b": None}))
    assert tiers.resolve("pplx-ci-tier0-a") == (2, "keys file")
    assert tiers.resolve("pplx-ci-tier0-b") == (0, "key name")
    tiers.set("pplx-ci-tier0-a", 4)
    assert tiers.resolve("pplx-ci-tier0-a") == (4, "runtime")
    # Runtime tiers belong to a namespace.
    assert tiers.resolve("pplx-ci-tier0-a", "other") == (2, "keys file")
    tiers.set("pplx-ci-tier0-a", None)
    assert tiers.resolve("pplx-ci-tier0-a") == (2, "keys file")
    with pytest.raises(ValueError, match="0-5"):
        tiers.set("k", 6)


def test_the_default_tier_is_the_highest_and_configurable() -> None:
    assert make_app().state.mock.tiers.resolve("pplx-local") == (5, "default")
    assert make_app(default_tier=1).state.mock.tiers.resolve("pplx-local") == (1, "default")


def client_for(app: Starlette, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://mock")


async def sonar(client: httpx.AsyncClient, key: str, namespace: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if namespace is not None:
        headers["X-Mock-Namespace"] = namespace
    return await client.post("/chat/completions", json=chat_body(), headers=headers)


@pytest.mark.anyio
async def test_control_plane_sets_a_tier_and_refills_the_buckets() -> None:
    app = make_app(Clock(source=lambda: 1_780_000_000.0))
    async with client_for(app) as client:
        for _ in range(50):
            await sonar(client, "pplx-ci-tier0-a")
        assert (await sonar(client, "pplx-ci-tier0-a")).status_code == 429
        response = await client.post("/_mock/tiers", json={"key": "pplx-ci-tier0-a", "tier": 1})
        assert response.json() == {"key": "pplx-ci-tier0-a", "namespace": "", "tier": 1, "source": "runtime"}
        ok = await sonar(client, "pplx-ci-tier0-a")
        assert ok.status_code == 200 and ok.headers["x-ratelimit-limit"] == "150"
        # Another namespace keeps the tier the name gives.
        assert (await sonar(client, "pplx-ci-tier0-a", "ns")).headers["x-ratelimit-limit"] == "50"
        view = await client.get("/_mock/tiers", params={"key": "pplx-ci-tier0-a"}, headers={"X-Mock-Namespace": "ns"})
        assert view.json() == {"key": "pplx-ci-tier0-a", "namespace": "ns", "tier": 0, "source": "key name"}
        dropped = await client.post("/_mock/tiers", json={"key": "pplx-ci-tier0-a", "tier": None})
        assert dropped.json()["tier"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {"key": "pplx-a", "tier": 6},
        {"key": "pplx-a", "tier": "1"},
        {"key": "pplx-a", "tier": True},
        {"key": "pplx-a"},
        {"tier": 1},
        [1],
        {"key": "sk-not-accepted", "tier": 1},
    ],
)
async def test_control_plane_rejects_bad_bodies(body: object) -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/_mock/tiers", json=body)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_parameter"


@pytest.mark.anyio
async def test_control_plane_only_answers_loopback_callers(tmp_path: Path) -> None:
    async with client_for(make_app(), ip="10.1.2.3") as client:
        posted = await client.post("/_mock/tiers", json={"key": "pplx-a", "tier": 0})
        read = await client.get("/_mock/tiers", params={"key": "pplx-a"})
    assert (posted.status_code, read.status_code) == (403, 403)
    async with client_for(make_app()) as client:
        assert (await client.get("/_mock/tiers")).status_code == 400


@pytest.mark.anyio
async def test_keys_file_tiers_apply_to_requests(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("team-key 2\nother-key\n", encoding="utf-8")
    async with client_for(make_app(keys_file=path, default_tier=0)) as client:
        assert (await sonar(client, "team-key")).headers["x-ratelimit-limit"] == "500"
        assert (await sonar(client, "other-key")).headers["x-ratelimit-limit"] == "50"
