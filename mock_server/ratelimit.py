"""Rate limits as the HTTP layer sees them: one call per handler, headers on every limited response.

A handler authenticates, then calls `enforce_rate_limit(request, state, <limit name>, key)`: the
request takes a token from its bucket (one per namespace, key and limit) or gets the API's 429
`request_rate_limit_exceeded` at once. Either way the `X-RateLimit-*` headers (and on a 429
`Retry-After` and `retry-after-ms`) are recorded for the request (`add_encoded_headers`), and
`stamp_headers` (middleware.py) puts them on whatever response the handler ends up sending: JSON, SSE
stream, or a later error.

Header units (the real ones are undocumented): `X-RateLimit-Limit` is the bucket's capacity (the
burst: the per-minute figure of the tables, or 50 for search); `X-RateLimit-Remaining` the whole
requests left now; `X-RateLimit-Reset` the seconds until the bucket is full again, rounded up;
`Retry-After` the seconds until the next request can succeed, rounded up; `retry-after-ms` the
same in milliseconds, rounded up, which the official SDKs prefer.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from mock_server.bucket import Decision
from mock_server.catalog import MODELS
from mock_server.errors import MockAPIError
from mock_server.middleware import add_encoded_headers
from mock_server.request_headers import request_headers
from mock_server.state import MockState

NAMESPACE_HEADER = b"x-mock-namespace"
NAMESPACE_KEY = "pplx_mock.namespace"
RATE_LIMIT_TYPE = "request_rate_limit_exceeded"
# The request state key naming the limit a request was charged against: the journal files 429s by it.
LIMIT_STATE_KEY = "pplx_mock_rate_limit"
# Float noise (1200.0000000000002 ms) must not add a whole unit when rounding up.
ROUNDING_SLACK = 1e-6


def namespace_of(scope: Scope) -> str:
    """The namespace a request selects with `X-Mock-Namespace`; "" is the default one.

    Kept in the scope: the journal, the fault plan and the rate limiter each ask for it.
    """
    namespace: str | None = scope.get(NAMESPACE_KEY)
    if namespace is None:
        namespace = scope[NAMESPACE_KEY] = request_headers(scope).get(NAMESPACE_HEADER, b"").decode("latin-1").strip()
    return namespace


def chat_limit(payload: Any) -> str | None:
    """The limit a chat request counts against: its model's, when the model is one we serve."""
    model = payload.get("model") if isinstance(payload, dict) else None
    return model if isinstance(model, str) and model in MODELS else None


def enforce_rate_limit(
    request: Request, state: MockState, limit_name: str | None, key: str
) -> list[tuple[bytes, bytes]]:
    """Take a token for `key` from the `limit_name` bucket, or raise the API's 429.

    A name the current table has no limit for (or None) is not limited: no headers, no 429. The
    headers are recorded for the response, whichever path sends it; they are also returned, encoded.
    """
    limit = state.limits.get(limit_name) if limit_name is not None else None
    if limit is None:
        return []
    scope = request.scope
    namespace = namespace_of(scope)
    tier = state.tiers.tier_of(key, namespace)
    decision = state.limiter.acquire((namespace, key, limit.name), limit.capacity(tier), limit.rate(tier))
    headers = rate_limit_headers(decision)
    notes = scope.setdefault("state", {})
    notes[LIMIT_STATE_KEY] = limit.name
    add_encoded_headers(notes, headers)
    if not decision.allowed:
        decoded = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}
        wait = int(decoded["retry-after-ms"]) / 1000
        # A limit the same on every tier (search's) is not the tier's: naming the tier would suggest
        # that a higher one helps.
        where = "" if limit.same_on_every_tier else f" on usage tier {tier}"
        message = (
            f"Too Many Requests: the rate limit for {limit.name}{where} is "
            f"{limit.describe(tier)}. Try again in {wait:g} seconds."
        )
        raise MockAPIError(429, RATE_LIMIT_TYPE, message, decoded)
    return headers


def rate_limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """The headers of `decision`, encoded as the response sends them (built on every limited request)."""
    # `_round_up` written out: this runs on every limited request.
    reset = math.ceil(decision.full_after - ROUNDING_SLACK)
    headers = [
        (b"x-ratelimit-limit", b"%d" % decision.limit),
        (b"x-ratelimit-remaining", b"%d" % decision.remaining),
        (b"x-ratelimit-reset", b"%d" % (reset if reset > 0 else 0)),
    ]
    if not decision.allowed:
        # Rounded up, so a client that waits exactly this long finds its token there; at least
        # 1 ms because the SDKs ignore a wait of 0.
        milliseconds = max(1, _round_up(decision.retry_after * 1000))
        headers.append((b"retry-after", b"%d" % math.ceil(milliseconds / 1000)))
        headers.append((b"retry-after-ms", b"%d" % milliseconds))
    return headers


def _round_up(value: float) -> int:
    return max(0, math.ceil(value - ROUNDING_SLACK))
