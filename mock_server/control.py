"""The mock's control plane under /_mock/: only for callers on this machine.

`POST /_mock/clock/advance` `{"seconds": N}` moves the mock's clock forward, so tests reach every
async-job state (and, later, refill rate limits) without sleeping.
"""

from __future__ import annotations

import ipaddress
import math

from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_server.body import read_json
from mock_server.errors import MockAPIError, invalid_parameter
from mock_server.state import MockState


def require_local(request: Request) -> None:
    host = request.client.host if request.client is not None else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise MockAPIError(403, "forbidden", "The /_mock/ control plane only answers callers on this machine.")


async def advance_clock(request: Request) -> JSONResponse:
    require_local(request)
    state: MockState = request.app.state.mock
    payload = await read_json(request, 4096)
    seconds = payload.get("seconds") if isinstance(payload, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise invalid_parameter('Body must be {"seconds": N} with N a finite number >= 0.')
    state.clock.advance(float(seconds))
    return JSONResponse({"now": state.clock.time(), "advanced": seconds})
