"""Pure-ASGI middleware that stamps headers every API response carries."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Where a handler leaves headers for the response, whichever path ends up sending it (its own
# answer, an error handler's, a stream): a key of the request's `state`.
EXTRA_HEADERS = "pplx_mock_extra_headers"


def add_response_headers(request: Request, headers: dict[str, str]) -> None:
    # The dict behind `request.state`, used directly: through `State`, the first lookup of a name
    # that is not there yet raises and catches an AttributeError, on every request.
    state: dict[str, Any] = request.scope.setdefault("state", {})
    state[EXTRA_HEADERS] = {**state.get(EXTRA_HEADERS, {}), **headers}


class ResponseHeadersMiddleware:
    """Adds `X-Request-ID` (when the route set none), the CORS header the API sends, and the
    headers handlers asked for with `add_response_headers` (unless the response has its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Created here so that the handler's `request.state` writes into this very dict.
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra: dict[str, str] = state.get(EXTRA_HEADERS, {})
                headers += [(n.encode(), v.encode()) for n, v in extra.items() if n.encode() not in present]
                if b"x-request-id" not in present:
                    headers.append((b"x-request-id", str(uuid.uuid4()).encode()))
                headers.append((b"access-control-allow-origin", b"*"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
