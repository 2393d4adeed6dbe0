"""POST /chat/completions (and its alias POST /v1/sonar): JSON, or SSE when `stream` is true."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from contract.schemas import ChatCompletionRequest
from mock_server.answers import plan_answer
from mock_server.body import read_json_body
from mock_server.catalog import ModelSpec
from mock_server.chunks import concise_frames, full_frames
from mock_server.completion import Completion
from mock_server.connection import wait_while_connected
from mock_server.errors import chat_completions_not_available
from mock_server.fixtures import Fixture
from mock_server.ratelimit import chat_limit, enforce_rate_limit
from mock_server.recorder import FIXTURE_STATE_KEY
from mock_server.request_headers import request_headers
from mock_server.sse import BATCH_BYTES, EventStream, Frame, data_frame, encode_json
from mock_server.state import MockState, mock_state
from mock_server.strictness import parse_chat


async def create_chat_completion(request: Request) -> Response | EncodedJSON | EventStream:
    state = mock_state(request)
    key = state.keys.authenticate(request.scope)
    if state.settings.retired:
        raise chat_completions_not_available()
    sent = await read_json_body(request, state.settings.max_body_bytes, state.bodies)
    payload = sent.payload
    # Limits are per model, so the body is read first; everything else is validated after.
    enforce_rate_limit(request, state, chat_limit(payload), key)
    # The same bytes always validate the same way: a repeated body is validated once.
    validated = sent.derived.get("chat")
    if validated is None:
        validated = sent.derived["chat"] = parse_chat(state, payload)
    chat, spec = validated
    now = state.clock.time()
    answer = plan_answer(state, payload, chat, spec, now, sent.raw)
    fixture = answer.fixture
    # The journal names the fixture that answered (None: synthesized); see recorder.py.
    request.scope.setdefault("state", {})[FIXTURE_STATE_KEY] = state.fixtures.label(fixture)
    if fixture is not None:
        recorded = _replay(fixture, chat, state)
        if recorded is not None:
            return recorded
    assert answer.completion is not None
    completion = answer.completion
    if chat.stream:
        return _stream(completion, chat, spec, state, now, stream_object(state, request))
    if state.settings.time_scale:  # at time scale 0, every load test's path, not even the coroutine
        await _think(state, spec, completion.completion_tokens, request.receive)
    if fixture is not None and fixture.spec.response.body is not None:
        body = {**fixture.spec.response.body, "id": completion.id, "created": int(now)}
        if "usage" not in body:
            # A curated fixture may leave usage out; the mock then bills it like any other answer, in
            # the place a real answer has it (last).
            body["usage"] = completion.usage()
        return _json(encode_json(body), completion.id, fixture)
    return _json(completion.encode_body(int(now)), completion.id, fixture)


def stream_object(state: MockState, request: Request) -> str:
    """The `object` of full-mode chunks: observed `chat.completion`, or the documented value for OpenAI SDKs.

    The openai SDKs validate chunks as `chat.completion.chunk` and reject the observed value, so in
    `auto` mode they get the documented one; `observed` reproduces what they would meet for real.
    """
    setting = state.settings.stream_object
    if setting == "auto":
        user_agent = request_headers(request.scope).get(b"user-agent", b"")
        setting = "documented" if user_agent.startswith((b"OpenAI/", b"AsyncOpenAI/")) else "observed"
    return "chat.completion.chunk" if setting == "documented" else "chat.completion"


def _stream(
    completion: Completion,
    chat: ChatCompletionRequest,
    spec: ModelSpec,
    state: MockState,
    now: float,
    chunk_object: str,
) -> EventStream:
    scale = state.settings.time_scale
    first_token = state.settings.time_to_first_token(spec.name)
    per_token = 1 / state.settings.tokens_per_second(spec.name)

    def created_at(offset: float) -> int:
        return int(now + offset * scale)

    if chat.stream_mode == "concise":
        frames = concise_frames(completion, created_at, first_token, per_token)
    else:
        frames = full_frames(completion, created_at, first_token, per_token, chunk_object)
    return _event_stream(state, frames, completion.id)


def _replay(fixture: Fixture, chat: ChatCompletionRequest, state: MockState) -> Response | EventStream | None:
    """A fixture answered verbatim: an error body, or a recorded stream. None when it must be planned."""
    response = fixture.spec.response
    if response.status >= 400:
        assert response.body is not None
        return Response(encode_json(response.body), response.status, response.headers, "application/json")
    if chat.stream and response.stream is not None:
        request_id = _recorded_id(response.stream) or ""
        return _event_stream(state, _recorded_frames(fixture), request_id, response.headers)
    return None


def _recorded_frames(fixture: Fixture) -> Iterator[Frame]:
    for event in fixture.spec.response.stream or ():
        if isinstance(event.data, str):
            yield event.at, b"data: " + event.data.encode() + b"\n\n"
        else:
            yield event.at, data_frame(event.data)


def _recorded_id(events: list[Any]) -> str | None:
    for event in events:
        if isinstance(event.data, dict) and isinstance(event.data.get("id"), str):
            return str(event.data["id"])
    return None


def _event_stream(
    state: MockState, frames: Iterator[Frame], request_id: str, headers: dict[str, str] | None = None
) -> EventStream:
    def opened() -> None:
        state.open_streams += 1

    def closed() -> None:
        state.open_streams -= 1

    return EventStream(
        frames,
        state.settings.time_scale,
        headers={**(headers or {}), "x-request-id": request_id} if request_id else headers,
        on_open=opened,
        on_close=closed,
        batch_bytes=BATCH_BYTES,
    )


async def _think(state: MockState, spec: ModelSpec, tokens: int, receive: Receive) -> None:
    """A non-streamed answer arrives when a stream of it would have finished; a client that gives
    up first ends the request (`ClientDisconnect`), as a stream ends when its client goes."""
    settings = state.settings
    delay = settings.time_scale * (
        settings.time_to_first_token(spec.name) + tokens / settings.tokens_per_second(spec.name)
    )
    if delay > 0:
        await wait_while_connected(receive, delay)


class EncodedJSON:
    """A 200 JSON answer from bytes ready to send, as two ASGI messages: Starlette's `Response`
    would check and re-encode its headers on every request."""

    def __init__(self, body: bytes, request_id: str) -> None:
        self.body = body
        self.headers = [
            (b"x-request-id", request_id.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def _json(body: bytes, request_id: str, fixture: Fixture | None) -> Response | EncodedJSON:
    if fixture is None:
        return EncodedJSON(body, request_id)
    headers = {"x-request-id": request_id, **fixture.spec.response.headers}
    return Response(body, 200, headers, "application/json")
