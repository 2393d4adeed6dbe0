"""Planned answers are reused for repeated requests, with a fresh id each time, within a bound."""

from __future__ import annotations

import httpx
import pytest

from mock_server.answer_cache import AnswerCache
from tests.conftest import chat_body

pytestmark = pytest.mark.anyio


async def test_a_repeated_request_reuses_the_plan_with_a_new_id(client: httpx.AsyncClient) -> None:
    first = (await client.post("/chat/completions", json=chat_body())).json()
    second = (await client.post("/chat/completions", json=chat_body())).json()
    assert first["id"] != second["id"]
    assert first["choices"] == second["choices"] and first["usage"] == second["usage"]
    other = (await client.post("/chat/completions", json=chat_body(temperature=0.5))).json()
    assert other["choices"] != first["choices"], "any difference in the request is a different plan"


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = AnswerCache(size=2)
    a, b, c = object(), object(), object()
    cache.put("a", a)  # type: ignore[arg-type]
    cache.put("b", b)  # type: ignore[arg-type]
    assert cache.get("a") is a
    cache.put("c", c)  # type: ignore[arg-type]
    assert cache.get("b") is None and cache.get("a") is a and cache.get("c") is c
