"""A request's headers as a plain dict, built once and shared by every layer that looks at them.

Starlette's `Headers` scans the raw list on every lookup, and an API request is looked at by
auth, the namespace, the fault plan, the journal and the rate limiter: a dozen scans. The dict
keeps the raw bytes: decoding every name and value cost more than all the lookups (3.6 µs for the
16 headers the openai SDK sends, against 0.8), and only a few values are ever read.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from starlette.types import Scope

HEADERS_KEY = "pplx_mock.headers"


def request_headers(scope: Scope) -> Mapping[bytes, bytes]:
    """Names to values, as bytes; of a repeated header, the first value (as `Headers.get` gives).

    Names are looked up in lower case, as the server gives them: ASGI servers lower them, and
    Starlette's own `Headers` relies on that too.
    """
    headers: Mapping[bytes, bytes] | None = scope.get(HEADERS_KEY)
    if headers is None:
        headers = scope[HEADERS_KEY] = dict(reversed(scope["headers"]))
    return headers


def header(scope: Scope, name: bytes) -> str | None:
    """One header's value, decoded (latin-1, as HTTP has it), or None."""
    value = request_headers(scope).get(name)
    return value.decode("latin-1") if value is not None else None


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    return _token_of(request_headers(scope).get(b"authorization", b""))


# Auth, the fault plan and the journal each ask, and clients send the same few keys over and over.
@lru_cache(maxsize=1024)
def _token_of(authorization: bytes) -> str | None:
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
