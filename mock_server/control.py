"""The mock's control plane under /_mock/: only for callers on this machine.

`POST /_mock/clock/advance` `{"seconds": N}` moves the mock's clock forward, so tests reach every
async-job state, and refill rate limits, without sleeping.

`POST /_mock/tiers` `{"key": K, "tier": N}` puts a key on usage tier N (`null` drops that again)
in the namespace the `X-Mock-Namespace` header selects, and refills the key's buckets there;
`GET /_mock/tiers?key=K` says which tier a key is on and why.
"""

from __future__ import annotations

import ipaddress
import math

from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_server.body import read_json
from mock_server.errors import MockAPIError, invalid_parameter
from mock_server.ratelimit import namespace_of
from mock_server.state import MockState
from mock_server.tiers import TIERS


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


async def set_tier(request: Request) -> JSONResponse:
    require_local(request)
    state: MockState = request.app.state.mock
    payload = await read_json(request, 4096)
    body = payload if isinstance(payload, dict) else {}
    key, tier = body.get("key"), body.get("tier")
    # `type(...) is int` keeps out true/false; "tier": null must be explicit, not a forgotten field.
    valid_tier = (type(tier) is int and tier in TIERS) or (tier is None and "tier" in body)
    if not isinstance(key, str) or not valid_tier:
        raise invalid_parameter('Body must be {"key": "<API key>", "tier": N} with N 0-5 (or null).')
    if not state.keys.accepts(key):
        raise invalid_parameter(f"{key!r} is not an API key this mock accepts.")
    namespace = namespace_of(request.headers)
    state.tiers.set(key, tier, namespace)
    # A new tier starts with full buckets, as if the key had not been used.
    state.limiter.forget((namespace, key))
    return _tier_view(state, key, namespace)


async def get_tier(request: Request) -> JSONResponse:
    require_local(request)
    state: MockState = request.app.state.mock
    key = request.query_params.get("key")
    if not key:
        raise invalid_parameter("Query parameter `key` is required.")
    return _tier_view(state, key, namespace_of(request.headers))


def _tier_view(state: MockState, key: str, namespace: str) -> JSONResponse:
    tier, source = state.tiers.resolve(key, namespace)
    return JSONResponse({"key": key, "namespace": namespace, "tier": tier, "source": source})
