"""The request journal: what it records, key masking, filters, its bound, streams, and the backoff verdict."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from mock_server.body import read_json_body
from mock_server.clock import Clock
from mock_server.exchange import ExchangeMiddleware
from mock_server.journal import Entry, Journal, mask_key
from mock_server.state import MockState
from tests.conftest import AUTH, TEST_KEY, chat_body, make_app

NOW = 1_780_000_000.0
LONG_KEY = "pplx-abcdefghijklmnopqrstuvwxyz-9876"
TIER0_AUTH = {"Authorization": "Bearer pplx-ci-tier0-journal"}


def client_for(app: Starlette, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=headers or AUTH)


async def journal(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/_mock/requests", params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


@pytest.fixture
async def frozen() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app(Clock(source=lambda: NOW))) as client:
        yield client


@pytest.mark.anyio
async def test_an_entry_records_the_request_and_its_answer(frozen: httpx.AsyncClient) -> None:
    response = await frozen.post("/chat/completions", json=chat_body())
    (entry,) = await journal(frozen)
    assert entry["duration_ms"] >= 0
    del entry["duration_ms"]
    assert entry == {
        "seq": 1,
        "time": NOW,
        "method": "POST",
        "path": "/chat/completions",
        "namespace": "",
        "key": "pplx-…-key",
        "model": "sonar",
        "limit": "sonar",
        "status": 200,
        "request_id": response.headers["x-request-id"],
        "fault": None,
        "fixture": None,
        "synthesized": True,
        "done": True,
        "bytes": len(response.content),
        "chunks": None,
        "retry_after_ms": None,
        "waited_ms": None,
        "advised_wait_ms": None,
        "waited_as_told": None,
    }


@pytest.mark.anyio
async def test_an_entry_names_the_fixture_that_answered_or_says_it_was_synthesized(frozen: httpx.AsyncClient) -> None:
    await frozen.post("/search", json={"query": "OpenAI o-series reasoning model benchmarks"})
    await frozen.post("/search", json={"query": "zebra migration"})
    question = (
        "Explain what factors determine LLM inference throughput on accelerators: "
        "memory bandwidth, KV-cache size, batching, and quantization."
    )
    await frozen.post("/chat/completions", json=chat_body("sonar-pro", question))
    await frozen.post("/chat/completions", json=chat_body())
    await frozen.post("/chat/completions", json=chat_body(model="no-such-model"))
    entries = await journal(frozen)
    assert [(entry["fixture"], entry["synthesized"]) for entry in entries] == [
        ("search/seed-openai-o-series-benchmarks.json", False),
        (None, True),
        ("chat/seed-sonar-pro-inference-throughput.json", False),
        (None, True),
        (None, None),
    ]


@pytest.mark.anyio
async def test_the_full_key_never_appears(frozen: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {LONG_KEY}"}
    await frozen.post("/chat/completions", json=chat_body(), headers=headers)
    await frozen.post("/search", json={"query": "x"}, headers=headers)
    text = (await frozen.get("/_mock/requests")).text
    assert LONG_KEY not in text and TEST_KEY not in text
    assert [entry["key"] for entry in json.loads(text)["requests"]] == ["pplx-…9876"] * 2


@pytest.mark.parametrize(
    ("key", "masked"),
    [(LONG_KEY, "pplx-…9876"), ("pplx-short", "pplx-…"), ("sk-0123456789", "…6789"), (None, None)],
)
def test_mask_key(key: str | None, masked: str | None) -> None:
    assert mask_key(key) == masked


@pytest.mark.anyio
async def test_unauthenticated_and_async_requests(frozen: httpx.AsyncClient) -> None:
    await frozen.post("/chat/completions", json=chat_body(), headers={"Authorization": ""})
    await frozen.post("/async/chat/completions", json={"request": chat_body("sonar-deep-research")})
    refused, job = await journal(frozen)
    assert (refused["status"], refused["key"], refused["limit"]) == (401, None, None)
    # An async job's model is the inner request's.
    assert (job["status"], job["model"], job["limit"]) == (200, "sonar-deep-research", "async-create")


@pytest.mark.anyio
async def test_the_mock_s_own_routes_are_not_recorded(frozen: httpx.AsyncClient) -> None:
    await frozen.get("/healthz")
    await frozen.get("/openapi.json")
    await frozen.post("/_mock/clock/advance", json={"seconds": 1})
    await frozen.get("/_mock/tiers", params={"key": TEST_KEY})
    assert await journal(frozen) == []


@pytest.mark.anyio
async def test_filters(frozen: httpx.AsyncClient) -> None:
    await frozen.post("/chat/completions", json=chat_body("sonar"))
    await frozen.post("/chat/completions", json=chat_body("sonar-pro"))
    await frozen.post("/chat/completions", json=chat_body("no-such-model"))
    await frozen.post("/search", json={"query": "fusion"})
    chats = await journal(frozen, path="/chat/completions")
    assert [e["model"] for e in chats] == ["sonar", "sonar-pro", "no-such-model"]
    assert [e["seq"] for e in await journal(frozen, model="sonar-pro")] == [2]
    assert [e["model"] for e in await journal(frozen, status=400)] == ["no-such-model"]
    # `limit` keeps the newest, still oldest first.
    assert [e["seq"] for e in await journal(frozen, limit=2)] == [3, 4]
    assert [e["seq"] for e in await journal(frozen, path="/chat/completions", status=200, limit=1)] == [2]


@pytest.mark.anyio
@pytest.mark.parametrize("params", [{"status": "ok"}, {"limit": "0"}, {"limit": "many"}])
async def test_bad_filters(frozen: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await frozen.get("/_mock/requests", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_parameter"


@pytest.mark.anyio
async def test_the_journal_is_bounded() -> None:
    async with client_for(make_app(journal_size=3)) as client:
        for _ in range(5):
            await client.post("/search", json={"query": "x"})
        assert [e["seq"] for e in await journal(client)] == [3, 4, 5]


@pytest.mark.anyio
async def test_a_stream_is_recorded_with_its_chunks(frozen: httpx.AsyncClient) -> None:
    response = await frozen.post("/chat/completions", json=chat_body(stream=True))
    (entry,) = await journal(frozen)
    assert (entry["status"], entry["done"], entry["bytes"]) == (200, True, len(response.content))
    assert entry["chunks"] == response.text.count("data: ")


# The backoff verdict. A sonar bucket of 1 that refills in 2 s: the second request is a 429.
@pytest.fixture
async def one_per_two_seconds(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    limits = tmp_path / "limits.toml"
    limits.write_text('extends = "rl-v3"\n[limits.sonar]\nrequests = 1\nperiod = 2\n', encoding="utf-8")
    async with client_for(make_app(Clock(source=lambda: NOW), rate_limits=str(limits))) as client:
        yield client


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    assert (await client.post("/_mock/clock/advance", json={"seconds": seconds})).status_code == 200


@pytest.mark.anyio
async def test_a_retry_too_soon_did_not_wait_as_told(one_per_two_seconds: httpx.AsyncClient) -> None:
    client = one_per_two_seconds
    statuses = [(await client.post("/chat/completions", json=chat_body())).status_code for _ in range(2)]
    await advance(client, 1.5)
    statuses.append((await client.post("/chat/completions", json=chat_body())).status_code)
    assert statuses == [200, 429, 429]
    first, refused, early = await journal(client)
    assert first["waited_as_told"] is None and refused["waited_as_told"] is None
    assert refused["retry_after_ms"] == 2000
    assert (early["waited_ms"], early["advised_wait_ms"], early["waited_as_told"]) == (1500, 2000, False)
    # The early retry's own 429 advises the rest of the wait: 0.25 token missing at 0.5 a second.
    assert early["retry_after_ms"] == 500


@pytest.mark.anyio
async def test_a_retry_after_the_advised_wait_waited_as_told(one_per_two_seconds: httpx.AsyncClient) -> None:
    client = one_per_two_seconds
    await client.post("/chat/completions", json=chat_body())
    assert (await client.post("/chat/completions", json=chat_body())).status_code == 429
    await advance(client, 2)
    assert (await client.post("/chat/completions", json=chat_body())).status_code == 200
    # A success ends the sequence: the next request is no retry.
    await advance(client, 5)
    await client.post("/chat/completions", json=chat_body())
    *_, retry, after = await journal(client)
    assert (retry["waited_ms"], retry["advised_wait_ms"], retry["waited_as_told"]) == (2000, 2000, True)
    assert after["waited_as_told"] is None


@pytest.mark.anyio
async def test_the_verdict_is_per_limit_key_and_namespace(one_per_two_seconds: httpx.AsyncClient) -> None:
    client = one_per_two_seconds
    await client.post("/chat/completions", json=chat_body())
    assert (await client.post("/chat/completions", json=chat_body())).status_code == 429
    # Another model's bucket, another key, another namespace: none of them is a retry of that 429.
    await client.post("/chat/completions", json=chat_body("sonar-pro"))
    await client.post("/chat/completions", json=chat_body(), headers={"Authorization": f"Bearer {LONG_KEY}"})
    await client.post("/chat/completions", json=chat_body(), headers={"X-Mock-Namespace": "other"})
    entries = await journal(client)
    assert [e["waited_as_told"] for e in entries] == [None] * 4
    # /v1/sonar shares the model's bucket, so it is a retry: an early one.
    await client.post("/v1/sonar", json=chat_body())
    assert (await journal(client))[-1]["waited_as_told"] is False


@pytest.mark.anyio
async def test_a_429_before_the_body_is_read_is_matched_by_its_limit() -> None:
    # async-create charges before reading the body, so its 429 names no model; the retry does.
    async with client_for(make_app(Clock(source=lambda: NOW)), TIER0_AUTH) as client:
        job = {"request": chat_body("sonar-deep-research")}
        statuses = [(await client.post("/async/chat/completions", json=job)).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        await advance(client, 12)
        assert (await client.post("/async/chat/completions", json=job)).status_code == 200
        *_, refused, retry = await journal(client)
        assert (refused["model"], refused["retry_after_ms"]) == (None, 12000)
        assert (retry["model"], retry["waited_as_told"]) == ("sonar-deep-research", True)


# The middleware on its own, driven message by message.
def http_scope(path: str = "/chat/completions") -> Scope:
    headers = [(b"authorization", f"Bearer {LONG_KEY}".encode()), (b"x-mock-namespace", b"ns")]
    return {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""}


def one_message_receive(body: bytes) -> Receive:
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


async def discard(message: Message) -> None:
    pass


@pytest.mark.anyio
async def test_a_stream_entry_is_completed_when_the_stream_ends() -> None:
    state: MockState = make_app().state.mock
    first_sent, finish = anyio.Event(), anyio.Event()

    async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
        # As the handlers read it: the parsed body is noted for the journal.
        await read_json_body(Request(scope, receive), 1024)
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        first_sent.set()
        await finish.wait()
        await send({"type": "http.response.body", "body": b"data: 2\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    middleware = ExchangeMiddleware(streaming_app, state)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(middleware, http_scope(), one_message_receive(b'{"model": "sonar-pro"}'), discard)
        await first_sent.wait()
        (entry,) = state.journal.entries("ns")
        assert (entry.status, entry.model, entry.done, entry.chunks) == (200, "sonar-pro", False, 1)
        finish.set()
    (entry,) = state.journal.entries("ns")
    assert (entry.done, entry.chunks, entry.body_bytes) == (True, 2, 18)
    assert entry.duration_ms is not None


@pytest.mark.anyio
async def test_fault_injection_notes_reach_the_entry() -> None:
    state: MockState = make_app().state.mock

    async def faulty_app(scope: Scope, receive: Receive, send: Send) -> None:
        # The contract with fault injection: a description under scope["state"]["mock_fault"].
        scope.setdefault("state", {})["mock_fault"] = "latency 2s"
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    await ExchangeMiddleware(faulty_app, state)(http_scope(), one_message_receive(b"{}"), discard)
    (entry,) = state.journal.entries("ns")
    assert (entry.status, entry.fault, entry.model) == (503, "latency 2s", None)


@pytest.mark.anyio
async def test_an_unhandled_error_is_recorded_as_500() -> None:
    state: MockState = make_app().state.mock

    async def broken_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await ExchangeMiddleware(broken_app, state)(http_scope(), one_message_receive(b""), discard)
    (entry,) = state.journal.entries("ns")
    assert (entry.status, entry.done) == (500, True)


def opened(journal: Journal, time: float) -> Entry:
    entry = Entry(0, time, "POST", "/search", "ns", TEST_KEY)
    journal.open(entry)
    return entry


def closed(journal: Journal, entry: Entry, status: int = 200) -> None:
    entry.status, entry.done = status, True
    journal.close(entry, entry.row())


def test_a_finished_entry_is_kept_as_a_row_the_garbage_collector_ignores() -> None:
    journal = Journal(size=100)
    entries = [opened(journal, float(n)) for n in range(3)]
    # The first request finishes last, after two later ones: it is found all the same.
    for entry in reversed(entries):
        closed(journal, entry)
    gc.collect()
    kept = list(journal._entries["ns"])
    assert all(type(item) is tuple and not gc.is_tracked(item) for item in kept)
    listed = journal.entries("ns")
    assert [(e.seq, e.status, e.done) for e in listed] == [(1, 200, True), (2, 200, True), (3, 200, True)]
    assert listed[0].as_json() == entries[0].as_json()


def test_an_entry_finishing_after_the_journal_dropped_it_or_a_reset_changes_nothing() -> None:
    journal = Journal(size=2)
    old = opened(journal, 0.0)
    reset_away, _ = (opened(journal, 1.0) for _ in range(2))
    closed(journal, old)  # dropped as the oldest while in flight
    assert [e.seq for e in journal.entries("ns")] == [2, 3]
    journal.reset("ns")
    closed(journal, reset_away)
    assert journal.entries("ns") == []
    later = opened(journal, 2.0)
    closed(journal, later)
    assert [(e.seq, e.done) for e in journal.entries("ns")] == [(4, True)]
