"""The outermost middleware: what every request and its response pass through, in one layer.

- It notes the server's transport (connection.py) while `receive` is still the server's own, for
  the faults that drop connections.
- It completes each response's headers (middleware.py: `stamp_headers`).
- It records API requests in the journal (recorder.py), after the headers are complete, so the
  journal sees exactly what the client gets. The mock's own routes are not recorded.
- It chooses each API request's fault plan and applies it (fault_middleware.py).
- It answers browsers' CORS preflights of API routes (preflight.py) before any of that.
- It sits outside Starlette's error middleware (see app.py: `MockApp`), so an API request that
  fails before its response has started gets the API's 500 from here, as that middleware would
  give it, and the journal records what the client got.
- An API request with no fault plan to a route without path parameters goes straight to its
  endpoint (`routes.Endpoint.answer`), past Starlette's exception middleware and router, unless a
  concurrency cap is configured (its layer sits between the two). Everything else goes on to the
  app.

One pure-ASGI layer where there were three for the first three jobs (about a fifth of a request's
time in-process) and two more for the faults and Starlette's routing (about 3 % of the requests a
second on the socket): each layer costs a coroutine and often a wrapped `send` per message.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.connection import note_transport
from mock_server.errors import error_response, server_error_response
from mock_server.fault_middleware import Faults, invalid_fault
from mock_server.faults import FaultSpecError
from mock_server.middleware import stamp_headers, stamp_start
from mock_server.preflight import is_preflight, methods_at, preflight_response
from mock_server.recorder import UNRECORDED_PATHS, Recording
from mock_server.routes import api_routes
from mock_server.state import MockState


class ExchangeMiddleware:
    def __init__(self, app: ASGIApp, state: MockState, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.state = state
        self.faults = Faults(state)
        self.routes = routes
        capped = state.settings.max_concurrent_requests is not None
        self.direct = {} if capped else api_routes(routes, UNRECORDED_PATHS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note_transport(scope, receive)
        # Created here so that the handler's `request.state` writes into this very dict.
        notes = scope.setdefault("state", {})
        own = scope["path"].startswith(UNRECORDED_PATHS)
        # Only the API's routes are open to pages in a browser: not the control plane (control.py).
        preflight = not own and is_preflight(scope)
        if own or preflight:
            # The mock's own routes, and browsers' CORS preflights (preflight.py): not API traffic.

            async def send_stamped(message: Message) -> None:
                await send(stamp_headers(message, notes))

            methods = methods_at(self.routes, scope["path"]) if preflight else None
            if methods:
                await preflight_response(scope, methods)(scope, receive, send_stamped)
            else:
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
            await self._answer(scope, receive, recorded_send)
        except Exception:
            if recording.status is None:
                await server_error_response()(scope, receive, recorded_send)
            recording.failed()
            raise
        finally:
            recording.close()

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            plan = self.faults.choose(scope)
        except FaultSpecError as exc:
            await error_response(invalid_fault(exc))(scope, receive, send)
            return
        if plan is not None:
            await self.faults.apply(plan, self.app, scope, receive, send)
            return
        direct = self.direct.get((scope["method"], scope["path"]))
        if direct is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        route, endpoint = direct
        # What the router puts in the scope for a full match.
        scope["route"], scope["endpoint"], scope["path_params"] = route, endpoint, {}
        await endpoint.answer(scope, receive, send)
