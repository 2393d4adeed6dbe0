"""The dictionary in front of Starlette's router chooses exactly the route Starlette would, and an
API request answered straight from its endpoint gets what it would get through Starlette."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route, Router
from starlette.types import Message, Receive, Scope, Send

from mock_server.exchange import ExchangeMiddleware
from mock_server.routes import ROUTES, ExactPathRouter, exact_routes
from tests.conftest import AUTH, chat_body, make_app


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


# Requests to the routes answered directly, each as a (method, path, json, headers) case: answers,
# the API's errors, and a request with a fault plan (which goes through the app).
CASES: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", "/chat/completions", chat_body(), AUTH),
    ("POST", "/v1/sonar", chat_body(stream=True, max_tokens=20), AUTH),
    ("POST", "/chat/completions", chat_body(), {}),
    ("POST", "/chat/completions", {"model": "no-such-model", "messages": []}, AUTH),
    ("POST", "/chat/completions", chat_body(), {**AUTH, "X-Mock-Fault": "status=503"}),
    ("POST", "/chat/completions", chat_body(), {**AUTH, "X-Mock-Fault": "nonsense"}),
    ("POST", "/search", {"query": "Paris"}, AUTH),
    ("POST", "/search", {"query": 3}, AUTH),
    ("GET", "/async/chat/completions", None, AUTH),
    ("POST", "/async/chat/completions", {"request": chat_body(model="sonar-deep-research")}, AUTH),
]
VARYING = re.compile(rb'"(id|created|request_id|created_at|started_at|completed_at)":\s*("[^"]*"|\d+(\.\d+)?)')


async def answers(app: Starlette) -> list[tuple[int, list[str], bytes]]:
    seen = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        for method, path, body, headers in CASES:
            response = await client.request(method, path, json=body, headers=headers)
            names = sorted(name for name in response.headers if name != "x-request-id")
            seen.append((response.status_code, names, VARYING.sub(b"", response.content)))
    return seen


@pytest.mark.anyio
async def test_an_answer_straight_from_the_endpoint_is_the_one_through_starlette(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    direct = make_app(rate_limits="rl-v3")
    assert ("POST", "/chat/completions") in exchange_of(direct).direct
    monkeypatch.setattr("mock_server.exchange.api_routes", lambda routes, own: {})
    routed = make_app(rate_limits="rl-v3")
    assert exchange_of(routed).direct == {}
    ours, starlettes = await answers(direct), await answers(routed)
    assert [status for status, _, _ in ours] == [200, 200, 401, 400, 503, 400, 200, 400, 200, 200]
    assert ours == starlettes


@pytest.mark.anyio
@pytest.mark.parametrize("straight", [True, False], ids=["straight", "through-starlette"])
async def test_a_handler_that_fails_gives_the_apis_500_and_the_journal_records_it(
    monkeypatch: pytest.MonkeyPatch, straight: bool
) -> None:
    async def broken(request: Any) -> Any:
        raise RuntimeError("a bug in the mock")

    (chat_route,) = (route for route in ROUTES if getattr(route, "path", None) == "/chat/completions")
    monkeypatch.setattr(chat_route.endpoint, "handler", broken)
    if not straight:
        monkeypatch.setattr("mock_server.exchange.api_routes", lambda routes, own: {})
    app = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        response = await client.post("/chat/completions", json=chat_body(), headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"message": "An internal server error has occurred.", "type": "internal_server_error", "code": 500}
    }
    (entry,) = app.state.mock.journal.entries("")
    assert (entry.status, entry.request_id, entry.done) == (500, response.headers["x-request-id"], True)


def test_with_a_concurrency_cap_every_request_goes_through_its_layer() -> None:
    assert exchange_of(make_app(max_concurrent_requests=2)).direct == {}


def exchange_of(app: Starlette) -> ExchangeMiddleware:
    """The app's own outer layer: its middleware stack is built here, as its first request would."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    layer: Any = app.middleware_stack
    while not isinstance(layer, ExchangeMiddleware):
        layer = layer.app
    return layer


async def run_until_the_client_leaves(app: Starlette, path: str, body: bytes, *, upload_cut: bool) -> list[Message]:
    """Send `body` (only its first half, when `upload_cut`), then leave; what the app sent back."""
    sent: list[Message] = []
    messages: list[Message] = (
        [{"type": "http.request", "body": body[: len(body) // 2], "more_body": True}]
        if upload_cut
        else [{"type": "http.request", "body": body, "more_body": False}]
    )

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await anyio.sleep(0.01)  # the client is gone a moment after its last byte
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"authorization", AUTH["Authorization"].encode()), (b"content-type", b"application/json")]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    with anyio.fail_after(2):  # the mock must not sit out its simulated delay for a client that left
        await app(scope, receive, send)
    return sent


@pytest.mark.anyio
@pytest.mark.parametrize("straight", [True, False], ids=["straight", "through-starlette"])
@pytest.mark.parametrize("upload_cut", [True, False], ids=["mid-upload", "while-answering"])
@pytest.mark.parametrize("path", ["/chat/completions", "/search"])
async def test_a_client_that_leaves_before_its_answer_gets_nothing_and_is_journalled_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, straight: bool, upload_cut: bool, path: str
) -> None:
    if not straight:
        monkeypatch.setattr("mock_server.exchange.api_routes", lambda routes, own: {})
    # Time scale 10: sonar and search take seconds to answer, so the client leaves while they work.
    app = make_app(time_scale=10)
    body = json.dumps(chat_body() if path == "/chat/completions" else {"query": "Paris"}).encode()
    assert await run_until_the_client_leaves(app, path, body, upload_cut=upload_cut) == []
    (entry,) = app.state.mock.journal.entries("")
    assert (entry.status, entry.done) == (None, True)
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]
