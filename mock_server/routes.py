"""The route table: one Route per endpoint."""

from __future__ import annotations

from starlette.routing import Route

from mock_server import async_jobs, chat, control, fault_control, meta, search

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
    Route("/_mock/faults", fault_control.set_faults, methods=["POST"]),
    Route("/_mock/faults", fault_control.get_faults, methods=["GET"]),
    Route("/_mock/scenarios", fault_control.set_scenario, methods=["POST"]),
    Route("/_mock/scenarios", fault_control.get_scenarios, methods=["GET"]),
    Route("/_mock/requests", control.list_requests, methods=["GET"]),
    Route("/_mock/reset", control.reset, methods=["POST"]),
    Route("/openapi.json", meta.openapi_document, methods=["GET"]),
    Route("/healthz", meta.health, methods=["GET"]),
]
