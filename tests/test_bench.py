"""The benchmark is fair: `bench/bare_app.py` answers its requests with what the mock answers.

Only a smoke test: the speed targets are measured by `bench/run.py`, which prints the figures side
by side, never by timed tests.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import make_app

BARE_APP = Path(__file__).resolve().parent.parent / "bench" / "bare_app.py"


@pytest.fixture(scope="module")
def bare_app() -> ModuleType:
    # bench/ is a directory of scripts, not a package.
    spec = importlib.util.spec_from_file_location("bench_bare_app", BARE_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def answer(app: Starlette, request: dict[str, Any], key: str) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        response = await client.post("/chat/completions", json=request, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return response.content


@pytest.mark.anyio
async def test_the_bare_app_answers_what_the_mock_answers(bare_app: ModuleType) -> None:
    bare = bare_app.create_app(await bare_app.capture_async())
    mock = make_app()
    for request in (bare_app.JSON_REQUEST, bare_app.STREAM_REQUEST):
        served = await answer(bare, request, bare_app.API_KEY)
        expected = await answer(mock, request, bare_app.API_KEY)
        assert bare_app.comparable(served) == bare_app.comparable(expected)
        # Same length too: the ids and times have fixed widths, so both put the same bytes on the wire.
        assert len(served) == len(expected)


@pytest.mark.anyio
async def test_the_streamed_answer_has_fifty_content_chunks(bare_app: ModuleType) -> None:
    payloads = await bare_app.capture_async()
    events = bare_app.comparable(b"".join(payloads.frames))
    assert events[-1] is None  # data: [DONE]
    *content, last = events[:-1]
    assert len(content) == 50
    assert all(event["choices"][0]["delta"]["content"] for event in content)
    assert last["choices"][0]["finish_reason"] == "length"
    assert last["usage"]["completion_tokens"] == 50
    assert json.loads(payloads.completion)["object"] == "chat.completion"
