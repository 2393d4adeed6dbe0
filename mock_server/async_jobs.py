"""/async/chat/completions (and /v1/async/sonar): create, list and get deep-research jobs.

Only `sonar-deep-research` is accepted. A job fails when a matching chat fixture answers with an
error status (its message becomes `error_message`), or when the create request carries
`X-Mock-Job-Fail` (`1`/`true` for a default message, or the message itself).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from contract.schemas import AsyncChatCompletionListQuery
from contract.schemas.async_jobs import ASYNC_MODELS
from mock_server.answers import plan_answer
from mock_server.body import read_json
from mock_server.errors import MockAPIError, chat_completions_not_available, invalid_parameter, invalid_request
from mock_server.jobs import DEFAULT_FAILURE, EFFORT_FACTOR, InvalidPageToken, Job
from mock_server.ratelimit import enforce_rate_limit, namespace_of
from mock_server.sse import encode_json
from mock_server.state import MockState, mock_state
from mock_server.strictness import parse_chat, unknown_job

(ASYNC_MODEL,) = ASYNC_MODELS
FAIL_HEADER = "x-mock-job-fail"


async def jobs_collection(request: Request) -> Response:
    """One route for the collection, so a wrong method's 405 lists both GET and POST in `Allow`."""
    if request.method == "POST":
        return await create_job(request)
    return await list_jobs(request)


async def create_job(request: Request) -> Response:
    state = mock_state(request)
    owner = state.keys.authenticate(request.scope)
    if state.settings.retired:
        raise chat_completions_not_available()
    enforce_rate_limit(request, state, "async-create", owner)
    payload = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(payload, dict):
        raise invalid_request("Request body must be a JSON object.")
    inner = payload.get("request")
    if not isinstance(inner, dict):
        raise invalid_request("Missing required field: request (the chat completion request to run).")
    key = payload.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        raise invalid_parameter("Invalid value for idempotency_key: Input should be a valid string.")
    chat, spec = parse_chat(state, inner)
    if spec.name != ASYNC_MODEL and state.settings.strictness == "faithful":
        raise invalid_model_for_async(spec.name)
    now = state.clock.time()
    namespace = namespace_of(request.scope)
    if key is not None:
        existing = state.jobs.by_idempotency_key(owner, key, now, namespace=namespace)
        if existing is not None:
            return _json(existing.view(now))
    answer = plan_answer(state, inner, chat, spec, now)
    settings = state.settings
    effort = EFFORT_FACTOR[chat.reasoning_effort or "medium"]
    job = Job(
        owner=owner,
        model=chat.model,
        created_at=now,
        queued_for=settings.time_scale * settings.job_queue_seconds,
        runs_for=settings.time_scale * settings.job_research_seconds * effort,
        completion=answer.completion,
        failure=_failure(request, answer.error),
        namespace=namespace,
    )
    state.jobs.add(job, key)
    return _json(job.view(now, created=True))


async def list_jobs(request: Request) -> Response:
    state = mock_state(request)
    owner = state.keys.authenticate(request.scope)
    enforce_rate_limit(request, state, "async-list", owner)
    try:
        query = AsyncChatCompletionListQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise invalid_parameter(f"Invalid value for {error['loc'][0]}: {error['msg']}.") from None
    now = state.clock.time()
    try:
        jobs, next_token = state.jobs.page(
            owner, now, query.limit, query.next_token, namespace=namespace_of(request.scope)
        )
    except InvalidPageToken:
        if state.settings.strictness == "spec":
            # Any string is a valid `next_token` to the schema: one this mock never issued ends the list.
            return _json({"requests": [], "next_token": None})
        raise invalid_parameter("Invalid value for next_token: not a token this API returned.") from None
    return _json({"requests": [job.summary(now) for job in jobs], "next_token": next_token})


async def get_job(request: Request) -> Response:
    state = mock_state(request)
    owner = state.keys.authenticate(request.scope)
    enforce_rate_limit(request, state, "async-get", owner)
    job_id = request.path_params["api_request"]
    now = state.clock.time()
    job = state.jobs.get(owner, job_id, now, namespace=namespace_of(request.scope))
    if job is None and state.settings.strictness == "spec":
        return _json(unknown_job(state, job_id))
    if job is None:
        raise MockAPIError(404, "not_found", f"Async request '{job_id}' not found.{_other_workers(state)}")
    return _json(job.view(now))


def _other_workers(state: MockState) -> str:
    # Jobs live in the worker process that created them; say so rather than let a 404 look final.
    workers = state.settings.workers
    if workers == 1:
        return ""
    return f" (The mock runs {workers} worker processes, each with its own jobs: the job may be on another one.)"


def invalid_model_for_async(name: str) -> MockAPIError:
    # The real answer for another model is undocumented; the docs say async is deep research only.
    return MockAPIError(
        400, "invalid_model", f"Model '{name}' is not supported for async chat completions; only {ASYNC_MODEL} is."
    )


def _failure(request: Request, fixture_error: dict[str, Any] | None) -> str | None:
    if fixture_error is not None:
        return str(fixture_error.get("error", {}).get("message") or DEFAULT_FAILURE)
    flag = request.headers.get(FAIL_HEADER)
    if flag is None:
        return None
    return DEFAULT_FAILURE if flag.strip().lower() in {"", "1", "true", "yes"} else flag.strip()


def _json(body: dict[str, Any]) -> Response:
    return Response(encode_json(body), 200, media_type="application/json")
