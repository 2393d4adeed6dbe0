"""The dictionary in front of Starlette's router chooses exactly the route Starlette would."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from mock_server.routes import ROUTES, ExactPathRouter, exact_routes


def starlette_choice(routes: list[Any], method: str, path: str) -> Route | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route if isinstance(route, Route) else None
    return None


def test_every_exact_entry_of_the_mock_is_starlettes_own_choice() -> None:
    exact = exact_routes(ROUTES)
    assert ("POST", "/chat/completions") in exact and ("HEAD", "/healthz") in exact
    # A job's poll has a path parameter: left to Starlette.
    assert not any("{" in path for _, path in exact)
    for (method, path), route in exact.items():
        assert starlette_choice(ROUTES, method, path) is route


class ScopeKeeper:
    """A plain ASGI endpoint (a function would be wrapped by Starlette) that keeps each scope it gets."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(dict(scope))
        await PlainTextResponse("ok")(scope, receive, send)


ok = ScopeKeeper()


def test_a_route_listed_earlier_that_could_match_keeps_its_paths_for_starlette() -> None:
    routes: list[Any] = [
        Route("/items/{name}", ok, methods=["GET"]),
        Route("/items/new", ok, methods=["GET", "POST"]),
        Route("/any", ok),  # every method
        Route("/any", ok, methods=["GET"]),
        Route("/first", ok, methods=["GET"]),
        Route("/first", ok, methods=["GET", "POST"]),
        Mount("/mounted", routes=[]),
        Route("/mounted/x", ok, methods=["GET"]),
    ]
    exact = exact_routes(routes)
    assert ("GET", "/items/new") not in exact and ("GET", "/any") not in exact
    assert ("GET", "/mounted/x") not in exact
    # The first route with the method wins, as in Starlette.
    assert exact[("GET", "/first")] is routes[4] and exact[("POST", "/first")] is routes[5]


@pytest.mark.anyio
async def test_a_hit_gets_the_scope_a_full_match_gives() -> None:
    endpoint = ScopeKeeper()
    route = Route("/x", endpoint, methods=["POST"])
    router = ExactPathRouter([route])

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    await router({"type": "http", "method": "POST", "path": "/x", "root_path": ""}, receive, send)
    starlette_scope: Scope = {"type": "http", "method": "POST", "path": "/x", "root_path": ""}
    await Router([route])(starlette_scope, receive, send)
    ours, starlettes = endpoint.scopes
    assert ours == starlettes
    assert (ours["route"], ours["endpoint"], ours["path_params"]) == (route, endpoint, {})
