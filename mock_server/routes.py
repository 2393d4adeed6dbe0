"""The route table: one Route per endpoint."""

from __future__ import annotations

from starlette.routing import Route

from mock_server import async_jobs, chat, control, meta

ROUTES = [
    Route("/chat/completions", chat.create_chat_completion, methods=["POST"]),
    Route("/v1/sonar", chat.create_chat_completion, methods=["POST"]),
    Route("/async/chat/completions", async_jobs.create_job, methods=["POST"]),
    Route("/async/chat/completions", async_jobs.list_jobs, methods=["GET"]),
    Route("/async/chat/completions/{api_request}", async_jobs.get_job, methods=["GET"]),
    Route("/v1/async/sonar", async_jobs.create_job, methods=["POST"]),
    Route("/v1/async/sonar", async_jobs.list_jobs, methods=["GET"]),
    Route("/v1/async/sonar/{api_request}", async_jobs.get_job, methods=["GET"]),
    Route("/_mock/clock/advance", control.advance_clock, methods=["POST"]),
    Route("/openapi.json", meta.openapi_document, methods=["GET"]),
    Route("/healthz", meta.health, methods=["GET"]),
]
