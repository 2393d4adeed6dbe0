"""Each API request's fault plan (see faults.py for the grammar), chosen and applied by the outer
middleware (exchange.py), which calls `Faults.choose` once per API request and, when there is a
plan, `Faults.apply` around the rest of the app.

Which plan: the `X-Mock-Fault` header, else the key's scenario step for this call, else the
namespace's default fault, else its chaos draw. Every source is consulted on every API request,
so a header on one request shifts neither a scenario's count nor the chaos sequence.

How: latency first; then `reset`, `hang` or `status` answer instead of the app; `first-byte`
and the stream faults wrap `send`. `mock_server/sse.py` sends one body message per event, or
at time scale 0 batches that list their events; either way the faults count events ([DONE]
included) and send each on its own. The applied plan is noted in
`scope["state"]["mock_fault"]` for the request journal.
"""

from __future__ import annotations

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import connection
from mock_server.body import receive_noting_body
from mock_server.errors import MockAPIError
from mock_server.fault_responses import status_response, stream_error_frame
from mock_server.faults import FaultPlan, FaultSpecError, parse_fault
from mock_server.ratelimit import namespace_of
from mock_server.request_headers import bearer_token, request_headers
from mock_server.sse import DONE, events_of
from mock_server.state import MockState

FAULT_HEADER = b"x-mock-fault"
FAULT_STATE_KEY = "mock_fault"
# How long to wait for the server to notice a connection we dropped.
DROP_GRACE_SECONDS = 1.0


class Faults:
    def __init__(self, state: MockState) -> None:
        self.state = state

    def choose(self, scope: Scope) -> FaultPlan | None:
        """The plan for this API request, noted for the journal; None: answer it as usual.

        Raises `FaultSpecError` for an `X-Mock-Fault` header that is not a fault spec.
        """
        plan = self._choose(scope)
        if plan is None or plan.is_none:
            return None
        scope.setdefault("state", {})[FAULT_STATE_KEY] = plan.spec
        return plan

    def _choose(self, scope: Scope) -> FaultPlan | None:
        namespace = namespace_of(scope)
        config = self.state.chaos.config(namespace)
        chaotic = config.draw()
        scripted = self.state.scenarios.next_call(namespace, bearer_token(scope))
        spec = request_headers(scope).get(FAULT_HEADER)
        plan = parse_fault(header_text(spec)) if spec is not None else scripted or config.default or chaotic
        return plan.resolved(config.rng) if plan is not None else None

    async def apply(self, plan: FaultPlan, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request as `plan` says, passing it to `app` where the plan lets it through."""
        if plan.latency is not None:
            # Not scaled by time_scale: a fault's latency is asked for explicitly.
            await anyio.sleep(plan.latency.low)
        if plan.reset or plan.hang:
            # Nothing reads the body but the wait for the client to go: the journal still names the model.
            receive = receive_noting_body(scope, receive, self.state.bodies)
        if plan.reset:
            await drop_connection(scope, receive)
        elif plan.hang:
            await self._hang(scope, receive)
        elif plan.status is not None:
            await status_response(plan.status, plan.retry_after_ms)(scope, receive, send)
        elif plan.first_byte is None and not plan.touches_stream:
            await app(scope, receive, send)
        else:
            await StreamFaults(plan, scope, send).run(app, receive)

    async def _hang(self, scope: Scope, receive: Receive) -> None:
        # Until the client gives up; the cap (not scaled: at time scale 0 it would be no hang)
        # keeps a forgotten client from holding the request for ever.
        with anyio.move_on_after(self.state.settings.fault_hang_seconds):
            await connection.wait_for_disconnect(receive)
            return
        await drop_connection(scope, receive)


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Reset the connection without an answer; in-process, raise `ConnectionResetError` instead."""
    transport = connection.transport_of(scope)
    if transport is None:
        raise ConnectionResetError("mock fault: connection reset before the response")
    connection.reset(transport)
    # Returning once the server knows, so it neither logs an unanswered request nor sends a 500.
    with anyio.move_on_after(DROP_GRACE_SECONDS):
        await connection.wait_for_disconnect(receive)


class StreamFaults:
    """Wraps one response's `send`: slow first byte, then the stream faults on event-streams."""

    def __init__(self, plan: FaultPlan, scope: Scope, send: Send) -> None:
        self.plan = plan
        self.scope = scope
        self.send = send
        self.transport = connection.transport_of(scope)
        self.started = anyio.Event()
        self.streaming = False
        self.events = 0
        self.ended = False
        self.cut_off = False

    async def run(self, app: ASGIApp, receive: Receive) -> None:
        async with anyio.create_task_group() as group:
            if self.plan.stream_disconnect is not None:
                group.start_soon(self._disconnect_later, self.plan.stream_disconnect, group.cancel_scope)
            await app(self.scope, receive, self.on_send)
            group.cancel_scope.cancel()
        if self.cut_off and self.transport is not None:
            with anyio.move_on_after(DROP_GRACE_SECONDS):
                await connection.wait_for_disconnect(receive)

    async def _disconnect_later(self, seconds: float, app_scope: anyio.CancelScope) -> None:
        await self.started.wait()
        if not self.streaming:
            return
        await anyio.sleep(seconds)
        await self._cut()
        app_scope.cancel()

    async def on_send(self, message: Message) -> None:
        if self.ended:
            return
        if message["type"] == "http.response.start":
            if self.plan.first_byte is not None:
                await anyio.sleep(self.plan.first_byte)
            content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            self.streaming = content_type.startswith("text/event-stream")
            await self.send(message)
            self.started.set()
            return
        events = events_of(message) if message["type"] == "http.response.body" else []
        if not self.streaming or not events:
            self.ended = message["type"] == "http.response.body" and not message.get("more_body", False)
            await self.send(message)
            return
        for event in events:
            if self.ended:
                break
            await self._event(event)

    async def _event(self, frame: bytes) -> None:
        plan = self.plan
        if plan.stream_no_done and frame == DONE:
            return
        self.events += 1
        if plan.stream_error is not None and self.events > plan.stream_error:
            self.ended = True
            await self.send({"type": "http.response.body", "body": stream_error_frame(), "more_body": True})
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        elif plan.stream_cut is not None and self.events > plan.stream_cut:
            await self._cut()
        else:
            if plan.stream_malformed == self.events:
                frame = malformed(frame)
            await self.send({"type": "http.response.body", "body": frame, "more_body": True})

    async def _cut(self) -> None:
        self.ended = True
        self.cut_off = True
        if self.transport is not None:
            connection.close(self.transport)
        else:
            # In-process nothing can be cut: the body just ends here, without [DONE].
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})


def header_text(value: bytes) -> str:
    """A header's value as the client wrote it, for the 400 that quotes a bad spec: clients send
    non-ASCII text as UTF-8; bytes that are not UTF-8 are read as latin-1, which takes any byte."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


def invalid_fault(exc: FaultSpecError) -> MockAPIError:
    return MockAPIError(400, "invalid_mock_fault", f"X-Mock-Fault: {exc}.")


def malformed(frame: bytes) -> bytes:
    """The event cut in the middle of its JSON (on a character boundary, so it is still UTF-8)."""
    text = frame.decode().removeprefix("data: ").rstrip("\n")
    return b"data: " + text[: max(1, len(text) // 2)].encode() + b"\n\n"
