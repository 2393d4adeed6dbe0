"""CORS preflight: the `OPTIONS` request a browser sends before an API call that carries an
`Authorization` header or a JSON body.

The real API was seen sending `access-control-allow-origin: *` (middleware.py), which is only of use
to a browser whose preflight succeeded; how the real API answers the preflight itself was never
captured. So this is the standard answer (our choice): 204, any origin, the methods the path
serves, and the request headers the browser asked for. A preflight is answered before auth, faults
and rate limits, as a browser sends it without the key; it is not API traffic and is not journalled.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from mock_server.request_headers import header

REQUEST_METHOD_HEADER = b"access-control-request-method"
REQUEST_HEADERS_HEADER = b"access-control-request-headers"
# How long a browser may reuse the answer (seconds): the mock's routes do not change while it runs.
MAX_AGE_SECONDS = 600


def is_preflight(scope: Scope) -> bool:
    return scope["method"] == "OPTIONS" and header(scope, REQUEST_METHOD_HEADER) is not None


def methods_at(routes: Sequence[BaseRoute], path: str) -> list[str]:
    """The methods the routes serve at `path` (HEAD left out: browsers never preflight it)."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods - {"HEAD"}
    return sorted(methods)


def preflight_response(scope: Scope, methods: list[str]) -> Response:
    headers = {
        "access-control-allow-methods": ", ".join(methods),
        "access-control-max-age": str(MAX_AGE_SECONDS),
        # The answer depends on what was asked: caches must keep one per question.
        "vary": "Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    requested = header(scope, REQUEST_HEADERS_HEADER)
    if requested:
        headers["access-control-allow-headers"] = requested
    # `stamp_headers` adds `access-control-allow-origin: *` and `X-Request-ID`, as on every answer.
    return Response(status_code=204, headers=headers)
