"""A request's headers as a plain dict, read once and shared by every layer that looks at them.

Starlette's `Headers` scans the raw list on every lookup, and an API request is looked at by
auth, the namespace, the fault plan, the journal and the rate limiter: a dozen scans.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from starlette.types import Scope

HEADERS_KEY = "pplx_mock.headers"


def request_headers(scope: Scope) -> Mapping[str, str]:
    """Lower-case names to values; of a repeated header, the first value (as `Headers.get` gives)."""
    headers = scope.get(HEADERS_KEY)
    if headers is None:
        headers = scope[HEADERS_KEY] = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in reversed(scope["headers"])
        }
    return headers


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    return _token_of(headers.get("authorization", ""))


# Auth, the fault plan and the journal each ask, and clients send the same few keys over and over.
@lru_cache(maxsize=1024)
def _token_of(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
