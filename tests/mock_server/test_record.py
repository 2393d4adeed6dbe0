"""`pplx-mock record`: the recording proxy, against a second mock standing in for the real API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.fixtures import FixtureError, load_fixtures
from mock_server.record import create_record_app
from mock_server.settings import ModelTiming, Settings
from tests.conftest import AUTH, LiveServer, chat_body, make_app, sse_data

FAKE_KEY = "pplx-FAKEKEY1234567890abcdef"
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def upstream() -> Iterator[LiveServer]:
    with LiveServer(make_app()) as server:
        yield server


def proxy(upstream: str, fixtures: Path, mode: str = "record-missing") -> httpx.AsyncClient:
    app = create_record_app(upstream, fixtures, mode, Settings(time_scale=0))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy", headers=AUTH)


def recorded(fixtures: Path) -> list[Path]:
    return sorted((fixtures / "recorded").glob("*.json"))


async def test_records_a_miss_and_replays_it_without_the_upstream(tmp_path: Path) -> None:
    with LiveServer(make_app()) as upstream:
        async with proxy(upstream.base_url, tmp_path) as client:
            first = await client.post("/chat/completions", json=chat_body(question="Where is Lyon?"))
    assert first.status_code == 200
    [path] = recorded(tmp_path)
    document = json.loads(path.read_text())
    assert document["endpoint"] == "chat.completions"
    assert document["match"] == {"model": "sonar", "stream": False, "last_user_message": {"equals": "Where is Lyon?"}}
    assert document["response"]["body"]["choices"] == first.json()["choices"]

    # The upstream is gone: a hit is replayed by the mock, a miss cannot be forwarded.
    async with proxy(upstream.base_url, tmp_path) as client:
        again = await client.post("/chat/completions", json=chat_body(question="Where is Lyon?"))
        assert again.status_code == 200
        assert again.json()["choices"] == first.json()["choices"]
        missing = await client.post("/chat/completions", json=chat_body(question="Where is Nice?"))
        assert missing.status_code == 502
    assert len(recorded(tmp_path)) == 1


async def test_record_all_forwards_every_request(tmp_path: Path, upstream: LiveServer) -> None:
    async with proxy(upstream.base_url, tmp_path, "record-all") as client:
        for _ in range(2):
            assert (await client.post("/chat/completions", json=chat_body())).status_code == 200
        search = await client.post("/search", json={"query": "Paris"})
    assert search.status_code == 200
    files = [json.loads(path.read_text()) for path in recorded(tmp_path)]
    assert sorted(f["endpoint"] for f in files) == ["chat.completions", "chat.completions", "search"]
    [search_file] = [f for f in files if f["endpoint"] == "search"]
    assert search_file["match"] == {"query": {"equals": "Paris"}}
    assert search_file["response"]["body"]["results"] == search.json()["results"]


async def test_replay_only_names_the_missing_fixture(tmp_path: Path) -> None:
    async with proxy("http://127.0.0.1:9", tmp_path, "replay-only") as client:
        response = await client.post("/chat/completions", json=chat_body(question="Unrecorded?"))
        healthz = await client.get("/healthz")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "fixture_not_found"
    assert "model 'sonar', stream false, last user message \"Unrecorded?\"" in error["message"]
    assert healthz.status_code == 200  # the mock's own routes are served by the mock
    assert recorded(tmp_path) == []


async def test_errors_are_relayed_and_validation_errors_recorded(tmp_path: Path, upstream: LiveServer) -> None:
    async with proxy(upstream.base_url, tmp_path) as client:
        bad_model = await client.post("/chat/completions", json=chat_body(model="sonar-nope"))
        no_key = await client.post("/chat/completions", json=chat_body(), headers={"Authorization": "Bearer nope"})
    assert bad_model.status_code == 400 and bad_model.json()["error"]["type"] == "invalid_model"
    assert no_key.status_code == 401
    [path] = recorded(tmp_path)  # the 401 is relayed only
    assert json.loads(path.read_text())["response"] == {"status": 400, "body": bad_model.json()}


async def test_secrets_never_reach_disk(tmp_path: Path, upstream: LiveServer) -> None:
    async with proxy(upstream.base_url, tmp_path) as client:
        response = await client.post(
            f"/chat/completions?api_key={FAKE_KEY}",
            json=chat_body(question=f"Is {FAKE_KEY} a key?", user=f"Bearer {FAKE_KEY}", note="sk-abcdefgh12345678"),
            headers={"Authorization": f"Bearer {FAKE_KEY}", "X-Api-Key": FAKE_KEY, "X-Note": f"key={FAKE_KEY}"},
        )
    assert response.status_code == 200
    [path] = recorded(tmp_path)
    text = path.read_text()
    assert "FAKEKEY" not in text and "sk-abcdefgh" not in text
    request = json.loads(text)["request"]
    assert request["headers"]["authorization"] == "[scrubbed]"
    assert request["headers"]["x-api-key"] == "[scrubbed]"
    assert request["headers"]["x-note"] == "key=[scrubbed]"
    assert request["query"] == "api_key=[scrubbed]"
    assert request["body"]["messages"][0]["content"] == "Is [scrubbed] a key?"
    load_fixtures(tmp_path)  # and what was written loads


def test_a_fixture_holding_a_key_stops_start_up(tmp_path: Path) -> None:
    fixture = {
        "endpoint": "chat.completions",
        "match": {"last_user_message": {"equals": f"my key is {FAKE_KEY}"}},
        "response": {"status": 400, "body": {"error": {"message": "x", "type": "x", "code": 400}}},
    }
    path = tmp_path / "chat" / "leaky.json"
    path.parent.mkdir()
    path.write_text(json.dumps(fixture, indent=2))
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path)
    assert str(path) in str(caught.value) and "line 5" in str(caught.value)
    assert FAKE_KEY not in str(caught.value)


def _stream(base_url: str, body: dict[str, object]) -> tuple[list[str], list[float]]:
    """The payloads of a streamed answer, and when each arrived (seconds after the request)."""
    payloads: list[str] = []
    offsets: list[float] = []
    started = time.monotonic()
    with (
        httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as client,
        client.stream("POST", "/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        text = ""
        for chunk in response.iter_text():
            text += chunk
            while "\n\n" in text:
                event, text = text.split("\n\n", 1)
                payloads.extend(sse_data(event + "\n\n"))
                offsets.append(time.monotonic() - started)
    return payloads, offsets


def test_a_recorded_stream_replays_with_its_content_order_and_pacing(tmp_path: Path) -> None:
    paced = make_app(time_scale=1, models={"sonar": ModelTiming(time_to_first_token=0.1, tokens_per_second=100)})
    body = chat_body(question="Why is the sky blue?", stream=True, max_tokens=20)
    with LiveServer(paced) as upstream:
        recorder = create_record_app(upstream.base_url, tmp_path, "record-missing", Settings(time_scale=1))
        with LiveServer(recorder) as server:
            relayed, relayed_at = _stream(server.base_url, body)
    [path] = recorded(tmp_path)
    events = json.loads(path.read_text())["response"]["stream"]
    stored = [e["data"] if e["data"] == "[DONE]" else json.dumps(e["data"], separators=(",", ":")) for e in events]
    assert stored == relayed and len(relayed) > 5 and relayed[-1] == "[DONE]"
    assert events[0]["at"] >= 0.1

    with LiveServer(make_app(fixtures=tmp_path, time_scale=1)) as replay:
        replayed, replayed_at = _stream(replay.base_url, body)
    assert replayed == relayed  # the same events, byte for byte, in the same order
    recorded_at = [e["at"] for e in events]
    for got, want in zip(replayed_at, recorded_at, strict=True):
        assert abs(got - want) < 0.08, (replayed_at, recorded_at)
    assert abs(relayed_at[-1] - replayed_at[-1]) < 0.1


async def test_a_structured_answer_is_recorded_for_its_format_only(tmp_path: Path, upstream: LiveServer) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    response_format = {"type": "json_schema", "json_schema": {"schema": schema}}
    async with proxy(upstream.base_url, tmp_path) as client:
        first = await client.post(
            "/chat/completions", json=chat_body(question="Where?", response_format=response_format)
        )
    [path] = recorded(tmp_path)
    assert json.loads(path.read_text())["match"]["body"] == {"response_format": response_format}
    async with proxy(upstream.base_url, tmp_path, "replay-only") as client:
        replayed = await client.post(
            "/chat/completions", json=chat_body(question="Where?", response_format=response_format)
        )
        prose = await client.post("/chat/completions", json=chat_body(question="Where?"))
    assert replayed.json()["choices"] == first.json()["choices"]
    assert prose.status_code == 404  # the recording answers its format only: nothing for prose


def test_the_record_command_line() -> None:
    from mock_server.cli import build_parser

    args = build_parser().parse_args(["record", "--upstream", "https://api.perplexity.ai", "--port", "8010"])
    assert (args.command, args.upstream, args.port, args.mode) == (
        "record",
        "https://api.perplexity.ai",
        8010,
        "record-missing",
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["record", "--mode", "replay-only"])  # --upstream is required


def test_record_takes_the_mock_s_settings_as_serve_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from mock_server import cli

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append((app, options)))
    flags = ["--time-scale", "0", "--seed", "7", "--default-tier", "1", "--loop", "asyncio", "--port", "9"]
    assert cli.main(["record", "--upstream", "http://127.0.0.1:9", *flags]) == 0
    ((app, options),) = served
    settings = app.routes[0].app.mock.state.mock.settings  # the proxy's own mock
    assert (settings.time_scale, settings.seed, settings.default_tier) == (0, 7, 1)
    assert (options["loop"], options["port"]) == ("asyncio", 9)


async def test_record_then_restart_in_replay_only_answers_identically_without_the_upstream(tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {FAKE_KEY}"}
    requests: list[tuple[str, dict[str, object]]] = [
        ("/chat/completions", chat_body(question="Where is Lyon?")),
        ("/chat/completions", chat_body(question="Where is Lyon?", stream=True)),
        ("/v1/sonar", chat_body(model="sonar-pro", question="Why is the sky blue?")),
        ("/chat/completions", chat_body(model="sonar-nope")),
        ("/search", {"query": "Paris"}),
    ]

    def comparable(response: httpx.Response) -> object:
        if response.headers["content-type"].startswith("text/event-stream"):
            return sse_data(response.text)  # a recorded stream replays byte for byte, ids included
        body = response.json()
        if response.status_code == 200:
            body.pop("id")  # every real answer has a fresh id and creation time
            body.pop("created", None)
        return body

    with LiveServer(make_app()) as upstream:
        async with proxy(upstream.base_url, tmp_path) as client:
            live = [await client.post(path, json=body, headers=headers) for path, body in requests]
        async with httpx.AsyncClient(base_url=upstream.base_url) as control:
            forwarded = len((await control.get("/_mock/requests")).json()["requests"])
        assert forwarded == len(requests)

        # A new proxy over the same directory, as after a restart, in replay-only mode.
        async with proxy(upstream.base_url, tmp_path, "replay-only") as client:
            replayed = [await client.post(path, json=body, headers=headers) for path, body in requests]
        async with httpx.AsyncClient(base_url=upstream.base_url) as control:
            assert len((await control.get("/_mock/requests")).json()["requests"]) == forwarded  # not contacted

    assert [r.status_code for r in live] == [200, 200, 200, 400, 200]
    assert [r.status_code for r in replayed] == [r.status_code for r in live]
    for before, after in zip(live, replayed, strict=True):
        assert after.headers["content-type"] == before.headers["content-type"]
        assert comparable(after) == comparable(before)
    files = recorded(tmp_path)
    assert len(files) == len(requests)
    for path in files:
        text = path.read_text()
        assert "FAKEKEY" not in text, path
        assert json.loads(text)["request"]["headers"]["authorization"] == "[scrubbed]"
