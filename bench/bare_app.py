"""The physical limit for this stack: a bare Starlette app that answers with the mock's own bytes.

`POST /chat/completions` reads the request body (any POST handler must), ignores it and answers
with a chat completion serialised once at start-up; with `"stream": true` in the body it streams
the same SSE frames the mock sends for `STREAM_REQUEST`, one `send` per frame, from an async
generator. No auth, no validation, no rate limiting, no journal: what is left is Starlette,
uvicorn and the socket, which is what `bench/run.py` compares the mock with.

The bytes come from the directory named by `BENCH_PAYLOADS` (`completion.json` and `stream.sse`,
written by `bench/run.py` from the running mock, so they are exactly what the mock sends) or,
without it, from the mock built in-process (`capture()`; tests use this path). The benchmark always
sets the variable, so the bare server process never imports the mock.

Paced (`bench/streams.py`): with `BENCH_FIRST_TOKEN` and `BENCH_PER_TOKEN` (seconds, already
scaled) set, each streamed answer sends its frames at the times the mock would: content chunk `i`
at first token + (i - 1) × per token after the stream starts, the finishing chunk and `[DONE]` with
the last token; one `send` per frame, `asyncio.sleep` until each is due. `GET /healthz` then also
reports `open_streams`, as the mock does.

    BENCH_PAYLOADS=/tmp/p python -m uvicorn --factory --app-dir bench bare_app:create_app --port 8001
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

PAYLOADS_ENV = "BENCH_PAYLOADS"
FIRST_TOKEN_ENV, PER_TOKEN_ENV = "BENCH_FIRST_TOKEN", "BENCH_PER_TOKEN"
API_KEY = "pplx-bench"
# The benchmark's two requests. 50 tokens on sonar: the stream has 50 content chunks, a last chunk
# with `finish_reason`, and `data: [DONE]`.
QUESTION = "How fast can a local mock of the Sonar API answer?"
JSON_REQUEST: dict[str, Any] = {"model": "sonar", "messages": [{"role": "user", "content": QUESTION}]}
STREAM_REQUEST: dict[str, Any] = {**JSON_REQUEST, "max_tokens": 50, "stream": True}
SSE_HEADERS = {"cache-control": "no-cache"}


# uvicorn's options for the bare app: the mock's own (mock_server/serving.py), so that only the app
# differs. `bench/run.py` passes the same as command-line flags.
UVICORN_OPTIONS: dict[str, Any] = {"access_log": False, "proxy_headers": False}


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """`--loop` and `--http`: uvicorn's event loop and HTTP parser, the same for every server of a run."""
    parser.add_argument(
        "--loop", choices=["auto", "uvloop", "asyncio"], default="auto", help="the servers' event loop (default auto)"
    )
    parser.add_argument(
        "--http", choices=["auto", "httptools", "h11"], default="auto", help="the servers' HTTP parser (default auto)"
    )


@dataclass(frozen=True)
class Payloads:
    completion: bytes
    # Each `data: …\n\n` event, `data: [DONE]\n\n` last.
    frames: tuple[bytes, ...]

    @classmethod
    def from_sse(cls, completion: bytes, stream: bytes) -> Payloads:
        return cls(completion, tuple(part + b"\n\n" for part in stream.split(b"\n\n") if part))

    @classmethod
    def load(cls, directory: Path) -> Payloads:
        return cls.from_sse((directory / "completion.json").read_bytes(), (directory / "stream.sse").read_bytes())

    def save(self, directory: Path) -> None:
        (directory / "completion.json").write_bytes(self.completion)
        (directory / "stream.sse").write_bytes(b"".join(self.frames))


@dataclass(frozen=True)
class Pace:
    """A paced stream's schedule, in seconds: content chunk i is due at `first_token + (i - 1) * per_token`."""

    first_token: float
    per_token: float

    @classmethod
    def from_env(cls) -> Pace | None:
        first_token, per_token = os.environ.get(FIRST_TOKEN_ENV), os.environ.get(PER_TOKEN_ENV)
        return cls(float(first_token), float(per_token)) if first_token and per_token else None

    def offsets(self, frames: int) -> tuple[float, ...]:
        # The last two frames (finishing chunk, `[DONE]`) go with the last token.
        content = frames - 2
        return tuple(self.first_token + (min(i, content) - 1) * self.per_token for i in range(1, frames + 1))


async def capture_async(
    json_request: dict[str, Any] = JSON_REQUEST, stream_request: dict[str, Any] = STREAM_REQUEST
) -> Payloads:
    """The mock's answers to the two requests, from the mock built in-process at time scale 0."""
    import httpx

    from mock_server import create_app as create_mock
    from mock_server.settings import Settings

    transport = httpx.ASGITransport(app=create_mock(Settings(time_scale=0)))
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=headers) as client:
        completion = await client.post("/chat/completions", json=json_request)
        stream = await client.post("/chat/completions", json=stream_request)
    completion.raise_for_status()
    stream.raise_for_status()
    return Payloads.from_sse(completion.content, stream.content)


def capture(json_request: dict[str, Any] = JSON_REQUEST, stream_request: dict[str, Any] = STREAM_REQUEST) -> Payloads:
    return asyncio.run(capture_async(json_request, stream_request))


def comparable(body: bytes) -> list[Any]:
    """The JSON documents of an answer (one, or one per SSE event) without `id` and `created`.

    Two answers to the same request are equal this way: only the id and the time differ.
    """
    texts = (
        [part.removeprefix(b"data: ") for part in body.split(b"\n\n") if part] if body.startswith(b"data: ") else [body]
    )
    documents = [None if text == b"[DONE]" else json.loads(text) for text in texts]
    return [{k: v for k, v in doc.items() if k not in ("id", "created")} if doc else doc for doc in documents]


def create_app(payloads: Payloads | None = None, pace: Pace | None = None) -> Starlette:
    if payloads is None:
        directory = os.environ.get(PAYLOADS_ENV)
        payloads = Payloads.load(Path(directory)) if directory else capture()
    pace = pace or Pace.from_env()
    completion, frames = payloads.completion, payloads.frames
    offsets = pace.offsets(len(frames)) if pace is not None else ()
    open_streams = 0

    async def events() -> AsyncIterator[bytes]:
        for frame in frames:
            yield frame

    async def paced_events() -> AsyncIterator[bytes]:
        nonlocal open_streams
        open_streams += 1
        try:
            started = time.monotonic()
            for offset, frame in zip(offsets, frames, strict=True):
                delay = started + offset - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield frame
        finally:
            open_streams -= 1

    def stream() -> AsyncIterator[bytes]:
        return paced_events() if offsets else events()

    async def chat_completions(request: Request) -> Response:
        body = await request.body()
        # A substring test, not a JSON parse: the mock's parse is part of what is being measured.
        if b'"stream":true' in body.replace(b" ", b""):
            return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)
        return Response(completion, media_type="application/json")

    async def healthz(request: Request) -> Response:
        if pace is None:
            return Response(b'{"status":"ok"}', media_type="application/json")
        return Response(f'{{"status":"ok","open_streams":{open_streams}}}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/chat/completions", chat_completions, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
