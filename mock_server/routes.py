"""The route table: one Route per endpoint."""

from __future__ import annotations

from starlette.routing import Route

from mock_server import async_jobs, chat, control, meta, search

ROUTES = [
    Route("/chat/completions", chat.create_chat_completion, methods=["POST"]),
    Route("/v1/sonar", chat.create_chat_completion, methods=["POST"]),
    Route("/async/chat/completions", async_jobs.jobs_collection, methods=["GET", "POST"]),
    Route("/async/chat/completions/{api_request}", async_jobs.get_job, methods=["GET"]),
    Route("/v1/async/sonar", async_jobs.jobs_collection, methods=["GET", "POST"]),
    Route("/v1/async/sonar/{api_request}", async_jobs.get_job, methods=["GET"]),
    Route("/search", search.create_search, methods=["POST"]),
    Route("/_mock/clock/advance", control.advance_clock, methods=["POST"]),
    Route("/_mock/tiers", control.set_tier, methods=["POST"]),
    Route("/_mock/tiers", control.get_tier, methods=["GET"]),
    Route("/openapi.json", meta.openapi_document, methods=["GET"]),
    Route("/healthz", meta.health, methods=["GET"]),
]
