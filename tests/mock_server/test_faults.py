"""The fault grammar, and the middleware in-process: scenarios, default faults, seeded chaos, streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.faults import FaultPlan, FaultSpecError, Latency, parse_fault
from tests.conftest import AUTH, TEST_KEY, chat_body, make_app, sse_data


@pytest.mark.parametrize(
    ("spec", "plan"),
    [
        ("503", FaultPlan(status=503)),
        (" status = 429 ; retry-after-ms=200 ", FaultPlan(status=429, retry_after_ms=200)),
        ("latency=1.5", FaultPlan(latency=Latency(1.5, 1.5))),
        ("latency=0.2..0.8;status=500", FaultPlan(latency=Latency(0.2, 0.8), status=500)),
        ("hang", FaultPlan(hang=True)),
        ("reset", FaultPlan(reset=True)),
        (
            "stream-cut=4;stream-malformed=2;stream-no-done",
            FaultPlan(stream_cut=4, stream_malformed=2, stream_no_done=True),
        ),
        ("stream-disconnect=2.5;first-byte=2", FaultPlan(stream_disconnect=2.5, first_byte=2.0)),
        ("stream-error=5", FaultPlan(stream_error=5)),
        ("none", FaultPlan()),
        # The upper bounds themselves, and leading zeros.
        (
            "latency=86400;status=429;retry-after-ms=86400000",
            FaultPlan(latency=Latency(86400.0, 86400.0), status=429, retry_after_ms=86_400_000),
        ),
        ("stream-cut=1000000;first-byte=86400", FaultPlan(stream_cut=1_000_000, first_byte=86400.0)),
        ("stream-error=0001000000", FaultPlan(stream_error=1_000_000)),
    ],
)
def test_specs_parse_and_print_back(spec: str, plan: FaultPlan) -> None:
    assert parse_fault(spec) == plan
    assert parse_fault(plan.spec) == plan


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("staus=503", "unknown fault `staus`"),
        ("status=200", "400-599"),
        ("status=abc", "400-599"),
        ("latency", "needs a value"),
        ("latency=-1", "seconds"),
        ("latency=2..1", "low to high"),
        ("hang=3", "takes no value"),
        ("status=500;status=503", "given twice"),
        ("hang;reset", "only one of status, hang, reset"),
        ("retry-after-ms=200", "goes with a `status`"),
        ("stream-cut=2;stream-error=3", "only one of stream-cut"),
        ("status=500;stream-cut=2", "stream faults need an answer"),
        ("stream-malformed=0", "from 1"),
        ("503;", "empty fault"),
        ("", "empty fault"),
        ("none;hang", "`none` cannot be combined"),
        # Out of range: a huge retry-after-ms overflowed into a 500, 5000 digits broke int().
        ("status=429;retry-after-ms=1" + "0" * 400, "`retry-after-ms` must be at most 86400000, got '1000"),
        ("status=429;retry-after-ms=86400001", "`retry-after-ms` must be at most 86400000"),
        # The value is quoted cut short: 39 digits of 5000.
        (
            "stream-cut=" + "1" * 5000,
            "`stream-cut` must be at most 1000000, got '" + "1" * 39 + "[.]{3} .5002 characters.$",
        ),
        ("stream-malformed=1000001", "`stream-malformed` must be at most 1000000"),
        ("stream-error=" + "9" * 5000, "`stream-error` must be at most 1000000"),
        ("latency=86400.5", "`latency` must be at most 86400 seconds"),
        ("latency=0.." + "9" * 400, "`latency` must be at most 86400 seconds"),
        ("first-byte=" + "1" * 5000, "`first-byte` must be at most 86400 seconds"),
        ("stream-disconnect=90000", "`stream-disconnect` must be at most 86400 seconds"),
        # Other scripts' digits, which `\d` and `int()` take.
        ("status=4\u0660\u0660", "400-599"),
        ("\u0665\u0660\u0660", "unknown fault"),
        ("stream-cut=\u0663", "whole number"),
        ("latency=\u0661.5", "seconds"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, problem: str) -> None:
    with pytest.raises(FaultSpecError, match=problem.replace("(", r"\(")):
        parse_fault(spec)


@pytest.fixture
async def faulty(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        yield client


async def chat(client: httpx.AsyncClient, fault: str | None = None, **extra: Any) -> httpx.Response:
    headers = {"X-Mock-Fault": fault} if fault is not None else {}
    return await client.post("/chat/completions", json=chat_body(**extra), headers=headers)


@pytest.mark.anyio
async def test_bad_header_is_a_400_invalid_mock_fault(faulty: httpx.AsyncClient) -> None:
    response = await chat(faulty, "status=5O3")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_mock_fault"
    assert "`status` must be an HTTP error status" in response.json()["error"]["message"]


@pytest.mark.anyio
async def test_a_bad_header_is_quoted_as_the_client_wrote_it(faulty: httpx.AsyncClient) -> None:
    # Sent as UTF-8 bytes; read as latin-1 it showed as mojibake.
    response = await faulty.post(
        "/chat/completions", json=chat_body(), headers={b"X-Mock-Fault": "status=５００".encode()}
    )
    assert response.json()["error"] == {
        "message": "X-Mock-Fault: `status` must be an HTTP error status 400-599, got '５００'.",
        "type": "invalid_mock_fault",
        "code": 400,
    }
    # Bytes that are not UTF-8 fall back on latin-1.
    latin = await faulty.post("/chat/completions", json=chat_body(), headers={b"X-Mock-Fault": b"status=\xe9"})
    assert latin.status_code == 400 and latin.json()["error"]["message"].endswith("got 'é'.")


@pytest.mark.anyio
async def test_a_huge_retry_after_is_a_400_not_a_500(faulty: httpx.AsyncClient) -> None:
    response = await chat(faulty, "status=429;retry-after-ms=1" + "0" * 400)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_mock_fault"
    at_the_bound = await chat(faulty, "status=429;retry-after-ms=86400000")
    assert at_the_bound.status_code == 429
    assert (at_the_bound.headers["retry-after"], at_the_bound.headers["retry-after-ms"]) == ("86400", "86400000")
    assert (await chat(faulty, "status=429;retry-after-ms=1001")).headers["retry-after"] == "2"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_mock/faults", {"default": "status=429;retry-after-ms=1" + "0" * 400}),
        ("/_mock/faults", {"default": "stream-cut=" + "1" * 5000}),
        ("/_mock/faults", {"chaos": {"retry-after-ms=" + "1" * 5000 + ";status=429": 0.5}}),
        ("/_mock/scenarios", {"key": TEST_KEY, "steps": {"1": "status=429;retry-after-ms=1" + "0" * 400}}),
        ("/_mock/scenarios", {"key": TEST_KEY, "steps": ["stream-cut=" + "1" * 5000]}),
    ],
)
async def test_out_of_range_specs_are_never_stored(faulty: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    refused = await faulty.post(path, json=body)
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_mock_fault"
    message = refused.json()["error"]["message"]
    assert "must be at most" in message and len(message) < 300, "long values are quoted cut short"
    assert (await chat(faulty)).status_code == 200


@pytest.mark.anyio
async def test_status_fault_bodies_and_the_journal_note(faulty: httpx.AsyncClient) -> None:
    response = await chat(faulty, "status=503")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "service_unavailable"
    assert "x-request-id" in response.headers
    html = await chat(faulty, "502")
    assert html.headers["content-type"].startswith("text/html") and "<center>cloudflare</center>" in html.text
    assert (await chat(faulty, "status=418")).json()["error"]["type"] == "im_a_teapot"


@pytest.mark.anyio
async def test_the_applied_fault_is_noted_for_the_journal(app: Starlette) -> None:
    seen: list[Any] = []
    inner = app.router

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        await inner(scope, receive, send)
        seen.append(scope["state"].get("mock_fault"))

    app.router = spy  # type: ignore[assignment]
    app.middleware_stack = None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH) as client:
        await chat(client, "latency=0..0.01;first-byte=0")
    assert len(seen) == 1 and seen[0].startswith("latency=0") and "first-byte=0" in seen[0]


@pytest.mark.anyio
async def test_in_process_reset_raises_a_connection_error(faulty: httpx.AsyncClient) -> None:
    with pytest.raises(ConnectionResetError):
        await chat(faulty, "reset")


@pytest.mark.anyio
async def test_in_process_hang_drops_the_request_at_the_cap() -> None:
    app = make_app(fault_hang_seconds=0.05)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=AUTH) as client:
        with pytest.raises(ConnectionResetError):
            await chat(client, "hang")
    # No handler read the body, but the journal still names its model.
    (entry,) = app.state.mock.journal.entries("")
    assert (entry.fault, entry.model) == ("hang", "sonar")


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"[" * 2000 + b"]" * 2000, b'{"model": ' + b"1" * 5000 + b"}", b"{nope"])
async def test_a_hang_hangs_whatever_the_body(body: bytes) -> None:
    # Noting the model of a body json cannot parse raised a 500 (RecursionError, ValueError).
    app = make_app(fault_hang_seconds=0.05)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=AUTH) as client:
        with pytest.raises(ConnectionResetError):
            await client.post("/chat/completions", content=body, headers={"X-Mock-Fault": "hang"})
    (entry,) = app.state.mock.journal.entries("")
    assert (entry.fault, entry.model) == ("hang", None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "events", "last"),
    [
        ("stream-cut=4", 4, None),
        ("stream-no-done", None, "final"),
        ("stream-error=3", 4, "error"),
        ("stream-malformed=2", None, "[DONE]"),
    ],
)
async def test_stream_faults_in_process(
    faulty: httpx.AsyncClient, fault: str, events: int | None, last: str | None
) -> None:
    plain = sse_data((await chat(faulty, stream=True)).text)
    response = await chat(faulty, fault, stream=True)
    assert response.status_code == 200
    if last == "error":
        frames = response.text.split("\n\n")[:-1]
        assert len(frames) == events and frames[-1].startswith("event: error\ndata: {")
        return
    data = sse_data(response.text)
    if events is not None:
        assert len(data) == events and "[DONE]" not in data
    if last == "final":
        assert len(data) == len(plain) - 1 and data[-1] != "[DONE]"
    if last == "[DONE]":
        assert len(data) == len(plain) and data[-1] == "[DONE]"
        with pytest.raises(json.JSONDecodeError):
            json.loads(data[1])
        assert [json.loads(item)["object"] for item in (data[0], data[2])] == ["chat.completion"] * 2


@pytest.mark.anyio
async def test_stream_faults_leave_json_answers_alone(faulty: httpx.AsyncClient) -> None:
    response = await chat(faulty, "stream-cut=1")
    assert response.status_code == 200 and response.json()["object"] == "chat.completion"


@pytest.mark.anyio
async def test_scenario_steps_happen_on_the_exact_call(faulty: httpx.AsyncClient) -> None:
    steps = {"3": "status=429;retry-after-ms=200", "5": "stream-cut=4"}
    set_up = await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": steps})
    assert set_up.status_code == 200 and set_up.json()["steps"] == steps
    statuses = []
    for _ in range(6):
        response = await chat(faulty, stream=True)
        statuses.append((response.status_code, response.text.endswith("data: [DONE]\n\n")))
    assert statuses == [(200, True), (200, True), (429, False), (200, True), (200, False), (200, True)]
    shown = (await faulty.get("/_mock/scenarios", params={"key": TEST_KEY})).json()
    assert shown["scenarios"] == [{"key": TEST_KEY, "calls": 6, "steps": steps}]


@pytest.mark.anyio
async def test_scenarios_are_per_namespace_and_list_form_works(faulty: httpx.AsyncClient) -> None:
    worker = {"X-Mock-Namespace": "w1"}
    await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": [None, "500"]}, headers=worker)
    assert (await chat(faulty)).status_code == 200
    assert (await chat(faulty)).status_code == 200  # the default namespace has no scenario
    first = await faulty.post("/chat/completions", json=chat_body(), headers=worker)
    second = await faulty.post("/chat/completions", json=chat_body(), headers=worker)
    assert (first.status_code, second.status_code) == (200, 500)


@pytest.mark.anyio
async def test_bad_scenarios_are_refused(faulty: httpx.AsyncClient) -> None:
    bad = await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": {"3": "hang;reset"}})
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("step 3: only one of")
    zero = await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": {"0": "500"}})
    assert zero.status_code == 400


@pytest.mark.anyio
@pytest.mark.parametrize("number", ["²", "٣", "３", "1" * 5000, "100001"])
async def test_call_numbers_are_ascii_digits_in_range(faulty: httpx.AsyncClient, number: str) -> None:
    # "²" passed `str.isdigit` and broke `int()` (a 500); "٣" was taken as call 3.
    refused = await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": {number: "500"}})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_mock_fault"
    assert "call numbers are whole numbers from 1 to 100000" in refused.json()["error"]["message"]
    assert (await faulty.get("/_mock/scenarios")).json()["scenarios"] == []
    accepted = await faulty.post("/_mock/scenarios", json={"key": TEST_KEY, "steps": {"03": "500", "100000": "503"}})
    assert accepted.json()["steps"] == {"3": "status=500", "100000": "status=503"}


@pytest.mark.anyio
async def test_default_fault_and_a_header_none_overrides_it(faulty: httpx.AsyncClient) -> None:
    await faulty.post("/_mock/faults", json={"default": "status=503"})
    assert (await chat(faulty)).status_code == 503
    assert (await chat(faulty, "none")).status_code == 200
    assert (await faulty.get("/healthz")).status_code == 200  # the mock's own routes are never faulted
    await faulty.post("/_mock/faults", json={})
    assert (await chat(faulty)).status_code == 200


async def _chaos_run(seed: int) -> list[int]:
    app = make_app(seed=seed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=AUTH) as client:
        configured = await client.post("/_mock/faults", json={"chaos": {"500": 0.3, "status=503": 0.2}})
        assert configured.json()["chaos"] == {"status=500": 0.3, "status=503": 0.2}
        return [(await client.post("/search", json={"query": "paris"})).status_code for _ in range(40)]


@pytest.mark.anyio
async def test_the_same_seed_gives_the_same_chaos() -> None:
    first, again, other = await _chaos_run(7), await _chaos_run(7), await _chaos_run(8)
    assert first == again
    assert first != other
    assert set(first) == {200, 500, 503}


@pytest.mark.anyio
async def test_chaos_from_the_settings_and_reset_restarts_the_sequence() -> None:
    app = make_app(seed=3, chaos={"500": 0.5})
    state = app.state.mock
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=AUTH) as client:
        run = [(await chat(client)).status_code for _ in range(12)]
        state.chaos.reset(None)
        assert [(await chat(client)).status_code for _ in range(12)] == run
        assert set(run) == {200, 500}
        assert (await client.get("/_mock/faults")).json()["draws"] == 12


@pytest.mark.anyio
async def test_bad_chaos_is_refused(faulty: httpx.AsyncClient) -> None:
    assert (await faulty.post("/_mock/faults", json={"chaos": {"500": 0.7, "503": 0.7}})).status_code == 400
    assert (await faulty.post("/_mock/faults", json={"chaos": {"boom": 0.1}})).status_code == 400
    assert (await faulty.post("/_mock/faults", json={"default": "hang=1"})).status_code == 400


@pytest.mark.anyio
async def test_retired_mode_covers_every_chat_entry_point() -> None:
    app = make_app(retired=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=AUTH) as client:
        for path, body in [
            ("/chat/completions", chat_body()),
            ("/v1/sonar", chat_body()),
            ("/async/chat/completions", {"request": chat_body("sonar-deep-research")}),
        ]:
            response = await client.post(path, json=body)
            assert response.status_code == 403
            assert response.json()["error"]["type"] == "chat_completions_not_available"
        assert (await client.post("/search", json={"query": "paris"})).status_code == 200
        assert (
            await client.post("/chat/completions", json=chat_body(), headers={"Authorization": "x"})
        ).status_code == 401


@pytest.mark.anyio
async def test_the_journal_shows_the_applied_fault(faulty: httpx.AsyncClient) -> None:
    await chat(faulty, "status=503")
    await chat(faulty)
    entries = (await faulty.get("/_mock/requests", params={"path": "/chat/completions"})).json()["requests"]
    assert [(entry["status"], entry["fault"]) for entry in entries[-2:]] == [(503, "status=503"), (200, None)]
