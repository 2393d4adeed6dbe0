"""`pplx-mock record`: a proxy that forwards API requests upstream and writes what came back as fixtures.

Each request is handled by the mode:

- `record-missing` (default): a request that a fixture already answers is replayed by the mock
  (with its recorded pacing); any other is forwarded and recorded;
- `record-all`: every request is forwarded and recorded, fixtures or not;
- `replay-only`: nothing is forwarded; a chat or search request that no fixture answers gets a
  404 `fixture_not_found` naming the fixture it would need.

The caller gets the upstream answer unchanged (status, headers, body; a stream relayed chunk by
chunk as it arrives), except that bodies are decoded (no `content-encoding`) and hop-by-hop
headers are dropped. Chat (`/chat/completions`, `/v1/sonar`) and search (`/search`) answers with
status 200, 400, 404 or 422 become one new JSON file each under `<fixtures>/recorded/`, scrubbed
of secrets (see scrub.py) and checked by loading it back; other routes and statuses (auth
failures, rate limits, server errors) are relayed only.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.routing import Mount
from starlette.types import Message, Receive, Scope, Send

from mock_server.app import create_app
from mock_server.body import NotJSONError, loads
from mock_server.errors import error_body
from mock_server.fixtures import Endpoint, FixtureError, FixtureStore, asks_for_a_format, load_fixture
from mock_server.scrub import scrub, scrub_headers, scrub_text
from mock_server.settings import Settings

RecordMode = Literal["record-all", "record-missing", "replay-only"]
RECORD_MODES: tuple[RecordMode, ...] = ("record-all", "record-missing", "replay-only")
RECORDED_DIRECTORY = "recorded"
ENDPOINTS: dict[str, Endpoint] = {"/chat/completions": "chat.completions", "/v1/sonar": "chat.completions"}
ENDPOINTS["/search"] = "search"
RECORDED_STATUSES = frozenset({200, 400, 404, 422})
# Never copied between the two connections: they describe one hop, or a body we have decoded.
HOP_BY_HOP = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "upgrade", "te"}
)
UPSTREAM_TIMEOUT = httpx.Timeout(connect=10, read=600, write=60, pool=60)


@dataclass(frozen=True)
class Interaction:
    """A chat or search request, as a fixture would match it."""

    endpoint: Endpoint
    payload: dict[str, Any]
    texts: list[str]  # the last user message, or the queries

    @classmethod
    def of(cls, scope: Scope, body: bytes) -> Interaction | None:
        endpoint = ENDPOINTS.get(scope["path"])
        if endpoint is None or scope["method"] != "POST":
            return None
        try:
            payload = loads(body)
        except NotJSONError:
            return None
        if not isinstance(payload, dict):
            return None
        if endpoint == "search":
            query = payload.get("query")
            queries = [q for q in (query if isinstance(query, list) else [query]) if isinstance(q, str)]
            if not queries or queries != (query if isinstance(query, list) else [query]):
                return None
            return cls(endpoint, payload, queries)
        if not isinstance(payload.get("model"), str):
            return None
        return cls(endpoint, payload, [last_user_message(payload.get("messages"))])

    @property
    def stream(self) -> bool:
        return self.endpoint == "chat.completions" and self.payload.get("stream") is True

    def match(self) -> dict[str, Any]:
        if self.endpoint == "search":
            query = self.payload["query"]
            return {"query": {"equals": query}} if isinstance(query, str) else {"body": {"query": query}}
        match: dict[str, Any] = {
            "model": self.payload["model"],
            "stream": self.stream,
            "last_user_message": {"equals": self.texts[0]},
        }
        if asks_for_a_format(self.payload):
            # Replayed only for the same format (see fixtures.py).
            match["body"] = {"response_format": self.payload["response_format"]}
        return match

    def describe(self) -> str:
        if self.endpoint == "search":
            return f"search query {json.dumps(self.payload['query'])}"
        return (
            f"chat.completions model {self.payload['model']!r}, stream {str(self.stream).lower()}, "
            f"last user message {json.dumps(self.texts[0])}"
        )


def last_user_message(messages: Any) -> str:
    """The text a fixture's `last_user_message` is matched against (as synthesis.question_text reads it)."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                parts = [part.get("text", "") for part in content if isinstance(part, dict)]
                return " ".join(part for part in parts if isinstance(part, str)).strip()
    return ""


class SSERecorder:
    """Splits relayed bytes into events and notes when each one was complete."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.buffer = ""
        self.events: list[dict[str, Any]] = []

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk.decode("utf-8", errors="replace").replace("\r\n", "\n")
        *complete, self.buffer = self.buffer.split("\n\n")
        at = round(time.monotonic() - self.started, 4)
        for block in complete:
            lines = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
            if lines:
                self.events.append({"at": at, "data": _event_data("\n".join(lines))})


def _event_data(text: str) -> Any:
    if text == "[DONE]":
        return text
    try:
        data = loads(text.encode())
    except NotJSONError:
        return text
    return data if isinstance(data, dict) else text


class RecordingProxy:
    """The pure-ASGI proxy; `create_record_app` wraps it in Starlette."""

    def __init__(self, upstream: str, fixtures_dir: Path, mode: RecordMode, settings: Settings) -> None:
        self.upstream = httpx.URL(upstream.rstrip("/"))
        self.mode = mode
        self.directory = fixtures_dir / RECORDED_DIRECTORY
        # Hits are answered by a mock serving the same fixtures, so they replay exactly as `serve` would.
        self.mock = create_app(settings.model_copy(update={"fixtures": fixtures_dir}))
        self.store: FixtureStore = self.mock.state.mock.fixtures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.mock(scope, receive, send)
            return
        body = await _read_body(receive)
        interaction = Interaction.of(scope, body)
        hit = interaction is not None and self.store.match(interaction.endpoint, interaction.payload, interaction.texts)
        if self.mode == "replay-only" or (hit and self.mode == "record-missing"):
            if interaction is not None and not hit:
                await _send_json(send, 404, _missing(interaction))
                return
            await self.mock(scope, _replaying(body, receive), send)
            return
        await self._forward(scope, body, receive, send, interaction)

    async def _forward(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, interaction: Interaction | None
    ) -> None:
        started = time.monotonic()
        headers = [(k, v) for k, v in Headers(scope=scope).items() if k.lower() not in HOP_BY_HOP]
        url = self.upstream.copy_with(path=self.upstream.path.rstrip("/") + scope["path"], query=scope["query_string"])
        async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT) as client:
            try:
                upstream = await client.send(
                    client.build_request(scope["method"], url, headers=headers, content=body), stream=True
                )
            except httpx.HTTPError as exc:
                message = f"The upstream {self.upstream} could not be reached: {type(exc).__name__}."
                await _send_json(send, 502, json.loads(error_body(502, "bad_gateway", message)))
                return
            try:
                recorded = await self._relay(upstream, receive, send, started)
            finally:
                await upstream.aclose()
        if recorded is not None and interaction is not None and upstream.status_code in RECORDED_STATUSES:
            self._write(scope, body, interaction, upstream.status_code, recorded)

    async def _relay(
        self, upstream: httpx.Response, receive: Receive, send: Send, started: float
    ) -> bytes | list[dict[str, Any]] | None:
        """Sends the upstream answer on; returns the body (or a stream's events), None if the caller left."""
        headers = [(k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        streaming = upstream.headers.get("content-type", "").startswith("text/event-stream")
        events = SSERecorder(started) if streaming else None
        chunks: list[bytes] = []
        finished = False
        async with anyio.create_task_group() as group:

            async def watch_for_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch_for_disconnect)
            async for chunk in upstream.aiter_bytes():
                if events is not None:
                    events.feed(chunk)
                else:
                    chunks.append(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            finished = True
            group.cancel_scope.cancel()
        if not finished:
            return None
        return events.events if events is not None else b"".join(chunks)

    def _write(
        self, scope: Scope, body: bytes, interaction: Interaction, status: int, recorded: bytes | list[dict[str, Any]]
    ) -> None:
        response: dict[str, Any] = {"status": status}
        if isinstance(recorded, list):
            response["stream"] = recorded
        else:
            try:
                response["body"] = loads(recorded)
            except NotJSONError:
                _warn(f"not recorded ({interaction.describe()}): the upstream body is not JSON")
                return
        now = datetime.datetime.now(datetime.UTC)
        document = {
            "endpoint": interaction.endpoint,
            "description": f"recorded by pplx-mock record: {scope['method']} {scope['path']}",
            "source": str(self.upstream),
            "recorded_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "match": interaction.match(),
            "request": {
                "method": scope["method"],
                "path": scope["path"],
                "query": scrub_text(scope["query_string"].decode("latin-1")),
                "headers": scrub_headers({k: v for k, v in Headers(scope=scope).items() if k not in HOP_BY_HOP}),
                "body": interaction.payload,
            },
            "response": response,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{_file_stem(interaction)}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(scrub(document), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        try:
            fixture = load_fixture(path)
        except FixtureError as exc:
            # An answer our models reject is drift to look at, not a fixture that would stop start-up.
            path.unlink()
            _warn(f"not recorded ({interaction.describe()}): {exc}")
            return
        self.store.add(fixture)


def create_record_app(upstream: str, fixtures_dir: Path, mode: RecordMode, settings: Settings) -> Starlette:
    return Starlette(routes=[Mount("", app=RecordingProxy(upstream, fixtures_dir, mode, settings))])


def _file_stem(interaction: Interaction) -> str:
    if interaction.endpoint == "search":
        return "search"
    kind = "stream" if interaction.stream else "json"
    return "chat-" + re.sub(r"[^A-Za-z0-9._-]", "_", str(interaction.payload["model"]))[:60] + "-" + kind


def _missing(interaction: Interaction) -> dict[str, Any]:
    message = (
        f"replay-only: no fixture answers {interaction.describe()}. "
        "Record it with `pplx-mock record --mode record-missing`."
    )
    return {"error": {"message": message, "type": "fixture_not_found", "code": 404}}


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` again, with the body already read handed over first."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw, "more_body": False})


def _warn(message: str) -> None:
    print(f"pplx-mock record: {message}", file=sys.stderr)
