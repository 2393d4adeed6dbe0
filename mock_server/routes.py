"""The route table: one Route per endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import async_jobs, chat, control, fault_control, meta, search


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
