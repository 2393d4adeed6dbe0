"""The outermost middleware: what every request and its response pass through, in one layer.

- It notes the server's transport (connection.py) while `receive` is still the server's own, for
  the faults that drop connections.
- It completes each response's headers (middleware.py: `stamp_headers`).
- It records API requests in the journal (recorder.py), after the headers are complete, so the
  journal sees exactly what the client gets. The mock's own routes are not recorded.

One pure-ASGI layer instead of three: each layer costs a coroutine and a wrapped `send` per
message on every request, and these three were about a fifth of a request's time.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.connection import note_transport
from mock_server.middleware import stamp_headers, stamp_start
from mock_server.recorder import UNRECORDED_PATHS, Recording
from mock_server.state import MockState


class ExchangeMiddleware:
    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note_transport(scope, receive)
        # Created here so that the handler's `request.state` writes into this very dict.
        notes = scope.setdefault("state", {})
        if scope["path"].startswith(UNRECORDED_PATHS):

            async def send_stamped(message: Message) -> None:
                await send(stamp_headers(message, notes))

            await self.app(scope, receive, send_stamped)
            return

        recording = Recording(self.state, scope)

        async def recorded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message, headers = stamp_start(message, notes)
                recording.response_started(message["status"], headers)
            elif message["type"] == "http.response.body":
                recording.body_sent(message)
            await send(message)

        try:
            await self.app(scope, receive, recorded_send)
        except Exception:
            recording.failed()
            raise
        finally:
            recording.close()
