"""Dropping a client's connection on purpose: what the reset, hang and stream-cut faults need.

ASGI has no message for "close the socket without an answer": an app that raises or returns
before `http.response.start` makes uvicorn (and Starlette's error middleware) send a 500. So
the outermost middleware (exchange.py) notes the server's transport in the scope with
`note_transport` while `receive` is still uvicorn's own bound method (the journal then wraps it),
and the faults close that transport themselves. In-process (httpx's ASGITransport) there is no transport; the
callers then fall back to what that transport can show.
"""

from __future__ import annotations

import socket
import struct
from typing import Any, Protocol, runtime_checkable

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

TRANSPORT_KEY = "pplx_mock.transport"


@runtime_checkable
class Transport(Protocol):
    """What the faults use of a connection's transport.

    A protocol rather than `asyncio.Transport`: uvloop's transports have these methods but do not
    subclass it.
    """

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


def note_transport(scope: Scope, receive: Receive) -> None:
    """Keep the server's transport in `scope`; call it with the server's own `receive`."""
    # uvicorn's h11 and httptools request cycles both keep their connection's transport.
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None:
        scope[TRANSPORT_KEY] = transport


def transport_of(scope: Scope) -> Transport | None:
    transport = scope.get(TRANSPORT_KEY)
    return transport if isinstance(transport, Transport) else None


def reset(transport: Transport) -> None:
    """Abort with a TCP RST: the client's next read fails with "connection reset by peer"."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger on, timeout 0: close() discards unsent data and sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def close(transport: Transport) -> None:
    """Close after what was already written: a chunked body then ends without its last chunk."""
    transport.close()


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the server has noticed the connection is gone (or the client went away)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def wait_while_connected(receive: Receive, seconds: float) -> None:
    """Wait `seconds` (the time the API takes to answer), or raise `ClientDisconnect` as soon as
    the client goes: nobody is left to answer, and the request ends as one the client gave up on.

    Call it once the request's body has been read: the next message `receive` gives is then the
    disconnect (or, when the response is complete, nothing).
    """
    with anyio.move_on_after(seconds):
        await wait_for_disconnect(receive)
        raise ClientDisconnect()
