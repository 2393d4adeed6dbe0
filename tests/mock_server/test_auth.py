from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_server.auth import KeysFileError, KeyStore, load_keys_file
from tests.conftest import chat_body, make_app


def test_default_accepts_any_pplx_key() -> None:
    store = KeyStore()
    assert store.accepts("pplx-anything") and not store.accepts("pplx-") and not store.accepts("sk-abc")


def test_keys_file_lists_keys_and_tiers(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("# comment\n\ncustom-key 3  # trailing comment\npplx-plain\n", encoding="utf-8")
    store = load_keys_file(path)
    assert store.listed == {"custom-key": 3, "pplx-plain": None}
    assert store.accepts("custom-key") and not store.accepts("pplx-other")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "k 9\n", "a b c\n"])
def test_bad_keys_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeysFileError, match=str(path)):
        load_keys_file(path)


@pytest.mark.anyio
async def test_listed_key_is_accepted_by_the_app(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("team-key\n", encoding="utf-8")
    transport = httpx.ASGITransport(app=make_app(keys_file=path))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        ok = await client.post("/chat/completions", json=chat_body(), headers={"Authorization": "Bearer team-key"})
        rejected = await client.post("/chat/completions", json=chat_body(), headers={"Authorization": "Bearer pplx-x"})
    assert (ok.status_code, rejected.status_code) == (200, 401)
