"""The mock's control plane under /_mock/: for callers on this machine, or with the admin token.

With the `admin_token` setting, callers elsewhere get in by sending it as `Authorization: Bearer
<token>` or `X-Mock-Admin-Token: <token>`; without it, and without the token, they get 403.

`POST /_mock/clock/advance` `{"seconds": N}` moves the mock's clock forward, so tests reach every
async-job state, and refill rate limits, without sleeping.

`POST /_mock/tiers` `{"key": K, "tier": N}` puts a key on usage tier N (`null` drops that again)
in the namespace the `X-Mock-Namespace` header selects, and refills the key's buckets there;
`GET /_mock/tiers?key=K` says which tier a key is on and why.

`GET /_mock/requests` lists the request journal of the caller's namespace (see journal.py), and
`POST /_mock/reset` forgets what that namespace (or, with `{"all": true}`, every one) has done.

Bodies are JSON whatever their Content-Type (`read_control_json`): this is the mock's own API.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_server.body import parse_json, read_body, read_json
from mock_server.errors import MockAPIError, invalid_parameter
from mock_server.ratelimit import namespace_of
from mock_server.request_headers import header
from mock_server.state import MockState, mock_state
from mock_server.tiers import TIERS

ADMIN_TOKEN_HEADER = "x-mock-admin-token"
# The clock, tiers and reset take a few fields; faults and scenarios (fault_control.py) take more.
CONTROL_BODY_BYTES = 4096
# The clock stops short of what `datetime` can show (year 9999), which every answer's dates go
# through, with a year to spare for the dates computed from it (job lifetimes, result dates).
CLOCK_LIMIT = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC).timestamp()


def require_local(request: Request) -> None:
    """Let through callers on this machine, and callers that present the admin token; 403 the rest."""
    host = request.client.host if request.client is not None else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local and not _has_admin_token(request):
        raise MockAPIError(403, "forbidden", "The /_mock/ control plane only answers callers on this machine.")


def _has_admin_token(request: Request) -> bool:
    state = mock_state(request)
    secret = state.settings.admin_token
    if secret is None:
        return False
    expected = secret.get_secret_value().encode()
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    offered = [request.headers.get(ADMIN_TOKEN_HEADER, "").strip()]
    if scheme.lower() == "bearer":
        offered.append(bearer.strip())
    # Constant time, so the answer's timing does not tell how much of a guess was right.
    return any(hmac.compare_digest(token.encode(), expected) for token in offered if token)


async def read_control_json(request: Request, limit: int = CONTROL_BODY_BYTES, *, optional: bool = False) -> Any:
    """A control-plane request's JSON body, whatever its Content-Type: the control plane is the
    mock's own API, not the real one, and `curl -d '{...}'` without `-H` sends a form type.

    Except from a web page (a request with an `Origin`, which browsers send and scripts do not):
    there only `application/json` is read. A page may post a form or text to any address without
    asking first, but JSON needs a CORS preflight, which the mock answers only for API routes; so a
    page the developer happens to open cannot change the mock's faults, tiers or clock.

    `optional`: no body at all reads as `{}`.
    """
    any_content_type = header(request.scope, b"origin") is None
    if not optional:
        return await read_json(request, limit, any_content_type=any_content_type)
    raw = await read_body(request, limit, any_content_type=any_content_type)
    return parse_json(raw).payload if raw.strip() else {}


async def advance_clock(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    payload = await read_control_json(request)
    seconds = payload.get("seconds") if isinstance(payload, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise invalid_parameter('Body must be {"seconds": N} with N a finite number >= 0.')
    # Compared, never converted: `math.isfinite` and `float` overflow on a JSON integer of 400 digits.
    room = CLOCK_LIMIT - state.clock.time()
    if not 0 <= seconds <= room:  # NaN fails both comparisons
        raise invalid_parameter(
            f"`seconds` must be a finite number from 0 to {room:.0f}: the clock cannot pass 9999-01-01T00:00:00Z."
        )
    state.clock.advance(float(seconds))
    return JSONResponse({"now": state.clock.time(), "advanced": seconds})


async def set_tier(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    payload = await read_control_json(request)
    body = payload if isinstance(payload, dict) else {}
    key, tier = body.get("key"), body.get("tier")
    # `type(...) is int` keeps out true/false; "tier": null must be explicit, not a forgotten field.
    valid_tier = (type(tier) is int and tier in TIERS) or (tier is None and "tier" in body)
    if not isinstance(key, str) or not valid_tier:
        raise invalid_parameter('Body must be {"key": "<API key>", "tier": N} with N 0-5 (or null).')
    if not state.keys.accepts(key):
        raise invalid_parameter(f"{key!r} is not an API key this mock accepts.")
    namespace = namespace_of(request.scope)
    state.tiers.set(key, tier, namespace)
    # A new tier starts with full buckets, as if the key had not been used.
    state.limiter.forget((namespace, key))
    return _tier_view(state, key, namespace)


async def get_tier(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    key = request.query_params.get("key")
    if not key:
        raise invalid_parameter("Query parameter `key` is required.")
    return _tier_view(state, key, namespace_of(request.scope))


def _tier_view(state: MockState, key: str, namespace: str) -> JSONResponse:
    tier, source = state.tiers.resolve(key, namespace)
    return JSONResponse({"key": key, "namespace": namespace, "tier": tier, "source": source})


async def list_requests(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    query = request.query_params
    status, limit = _optional_int(query.get("status"), "status"), _optional_int(query.get("limit"), "limit")
    if limit is not None and limit < 1:
        raise invalid_parameter("Query parameter `limit` must be at least 1.")
    entries = [
        entry
        for entry in state.journal.entries(namespace_of(request.scope))
        if query.get("path") in (None, entry.path)
        and query.get("model") in (None, entry.model)
        and status in (None, entry.status)
    ]
    # `limit` keeps the newest; the answer stays oldest first.
    chosen = entries[-limit:] if limit is not None else entries
    return JSONResponse({"requests": [entry.as_json() for entry in chosen]})


async def reset(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    # No body at all resets the caller's namespace: the common case needs no JSON.
    payload = await read_control_json(request, optional=True)
    everything = payload.get("all", False) if isinstance(payload, dict) else None
    if not isinstance(everything, bool):
        raise invalid_parameter('Body must be empty, {} or {"all": true}.')
    namespace = None if everything else namespace_of(request.scope)
    state.reset(namespace)
    return JSONResponse({"reset": "all" if namespace is None else "namespace", "namespace": namespace})


def _optional_int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid_parameter(f"Query parameter `{name}` must be an integer.") from None
