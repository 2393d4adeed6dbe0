"""The route table: one Route per endpoint, and the router that dispatches it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import async_jobs, chat, control, fault_control, meta, search
from mock_server.errors import MockAPIError, error_response


class Endpoint:
    """A `request -> response` handler as a plain ASGI app.

    Starlette wraps a function endpoint in `request_response`, which catches and maps exceptions a
    second time on every request; the app's own ExceptionMiddleware already maps them to the API's
    error bodies, so a plain ASGI endpoint does the same with one layer less.
    """

    def __init__(self, handler: Callable[[Request], Awaitable[ASGIApp]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive, send))
        await response(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What this endpoint gives through Starlette's exception middleware, without it: the API's
        errors (`MockAPIError`) as the app's handler for them answers them (`error_response`);
        anything else goes on to the outermost error handler, as it does through the middleware.
        """
        request = Request(scope, receive, send)
        try:
            response = await self.handler(request)
        except MockAPIError as exc:
            response = error_response(exc)
        except ClientDisconnect:
            return  # as `client_gone` answers it
        await response(scope, receive, send)


async def client_gone(request: Request, exc: Exception) -> None:
    """The app's handler for `ClientDisconnect` (the client left before its answer): send nothing.

    Starlette sends nothing when a handler returns None; without this handler its error middleware
    would log a traceback and "send" a 500 that nobody gets, and the journal would record it. The
    journal shows such a request with no status, as it does the connections the faults drop.
    """
    return None


class ExactPathRouter(Router):
    """Starlette's router with a dictionary in front: a request for a route without path
    parameters (every API call but a job's poll) is found by its method and path at once.

    Starlette's own matching, which it falls back to for everything else, runs each route's regular
    expression in turn and builds a child scope for every request. A hit gets exactly what a full
    match would put in the scope.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        # No redirect from `/search/` to `/search`: the real API answers a path it does not serve
        # with a bare 404 (observed), and a trailing slash is such a path as far as anyone knows.
        super().__init__(routes, redirect_slashes=False)
        self.exact = exact_routes(self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self.exact.get((scope["method"], scope["path"]))
            if route is not None:
                scope["router"] = self
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                await route.app(scope, receive, send)
                return
        await self.middleware_stack(scope, receive, send)


def exact_routes(routes: Sequence[BaseRoute]) -> dict[tuple[str, str], Route]:
    """(method, path) -> the route Starlette would choose, for the routes without path parameters."""
    exact: dict[tuple[str, str], Route] = {}
    for index, candidate in enumerate(routes):
        if not isinstance(candidate, Route) or candidate.param_convertors or not candidate.methods:
            continue
        if any(_may_shadow(earlier, candidate.path) for earlier in routes[:index]):
            continue
        for method in candidate.methods:
            # The first route with the method wins, as in Starlette's own matching.
            exact.setdefault((method, candidate.path), candidate)
    return exact


def api_routes(
    routes: Sequence[BaseRoute], own_paths: tuple[str, ...]
) -> dict[tuple[str, str], tuple[Route, Endpoint]]:
    """The exact routes of the API (not the mock's own, under `own_paths`) whose endpoint can answer
    directly (`Endpoint.answer`), by method and path, with that endpoint."""
    return {
        key: (route, route.endpoint)
        for key, route in exact_routes(routes).items()
        if isinstance(route.endpoint, Endpoint) and not route.path.startswith(own_paths)
    }


def _may_shadow(earlier: BaseRoute, path: str) -> bool:
    """Whether Starlette could choose `earlier`, listed before, for any request to `path`."""
    if not isinstance(earlier, Route):
        return True  # a mount or a host: left to Starlette's own matching
    loose = bool(earlier.param_convertors) or not earlier.methods
    return loose and earlier.path_regex.match(path) is not None


def route(path: str, handler: Callable[[Request], Awaitable[ASGIApp]], methods: list[str]) -> Route:
    return Route(path, Endpoint(handler), methods=methods)


ROUTES = [
    route("/chat/completions", chat.create_chat_completion, methods=["POST"]),
    route("/v1/sonar", chat.create_chat_completion, methods=["POST"]),
    route("/async/chat/completions", async_jobs.jobs_collection, methods=["GET", "POST"]),
    route("/async/chat/completions/{api_request}", async_jobs.get_job, methods=["GET"]),
    route("/v1/async/sonar", async_jobs.jobs_collection, methods=["GET", "POST"]),
    route("/v1/async/sonar/{api_request}", async_jobs.get_job, methods=["GET"]),
    route("/search", search.create_search, methods=["POST"]),
    route("/_mock/clock/advance", control.advance_clock, methods=["POST"]),
    route("/_mock/tiers", control.set_tier, methods=["POST"]),
    route("/_mock/tiers", control.get_tier, methods=["GET"]),
    route("/_mock/faults", fault_control.set_faults, methods=["POST"]),
    route("/_mock/faults", fault_control.get_faults, methods=["GET"]),
    route("/_mock/scenarios", fault_control.set_scenario, methods=["POST"]),
    route("/_mock/scenarios", fault_control.get_scenarios, methods=["GET"]),
    route("/_mock/requests", control.list_requests, methods=["GET"]),
    route("/_mock/reset", control.reset, methods=["POST"]),
    route("/openapi.json", meta.openapi_document, methods=["GET"]),
    route("/healthz", meta.health, methods=["GET"]),
]
