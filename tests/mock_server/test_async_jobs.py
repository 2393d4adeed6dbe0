"""Async deep-research jobs: lifecycle driven by the clock, failures, idempotency, isolation, expiry, paging."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.schemas import AsyncChatCompletionJob, AsyncChatCompletionList
from mock_server.clock import Clock
from mock_server.jobs import DEFAULT_FAILURE, TTL_SECONDS
from mock_server.settings import bundled_fixtures_dir
from tests.conftest import chat_body, make_app

pytestmark = pytest.mark.anyio
T0 = 1_780_000_000.0
QUEUE, RESEARCH = 5.0, 120.0
OTHER_KEY = {"Authorization": "Bearer pplx-someone-else"}


def job_body(question: str = "What is the state of fusion energy research?", **extra: Any) -> dict[str, Any]:
    return {"request": chat_body("sonar-deep-research", question), **extra}


@pytest.fixture
async def jobs_client() -> AsyncIterator[httpx.AsyncClient]:
    # Realistic durations on a frozen clock: only /_mock/clock/advance moves time.
    app = make_app(Clock(source=lambda: T0), time_scale=1, job_queue_seconds=QUEUE, job_research_seconds=RESEARCH)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mock", headers={"Authorization": "Bearer pplx-owner"}
    ) as client:
        yield client


async def create(client: httpx.AsyncClient, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = await client.post("/async/chat/completions", json=body, **kwargs)
    assert response.status_code == 200, response.text
    return AsyncChatCompletionJob.model_validate(response.json()).model_dump()


async def get(client: httpx.AsyncClient, job_id: str, **kwargs: Any) -> httpx.Response:
    return await client.get(f"/async/chat/completions/{job_id}", **kwargs)


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    assert (await client.post("/_mock/clock/advance", json={"seconds": seconds})).status_code == 200


async def test_lifecycle_follows_the_clock(jobs_client: httpx.AsyncClient) -> None:
    job = await create(jobs_client, job_body())
    assert job["status"] == "CREATED" and job["created_at"] == int(T0)
    assert (
        job["started_at"] is job["completed_at"] is job["failed_at"] is job["response"] is job["error_message"] is None
    )

    await advance(jobs_client, QUEUE)
    running = (await get(jobs_client, job["id"])).json()
    assert running["status"] == "IN_PROGRESS" and running["started_at"] == int(T0 + QUEUE)
    assert running["completed_at"] is None and running["response"] is None

    await advance(jobs_client, RESEARCH)
    done = AsyncChatCompletionJob.model_validate((await get(jobs_client, job["id"])).json())
    assert done.status == "COMPLETED" and done.completed_at == int(T0 + QUEUE + RESEARCH)
    assert done.failed_at is None and done.error_message is None and done.response is not None

    # The synchronous endpoint's answer to the same request (from an app without pacing).
    transport = httpx.ASGITransport(app=make_app(Clock(source=lambda: T0)))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=jobs_client.headers) as reference:
        sync = (await reference.post("/chat/completions", json=job_body()["request"])).json()
    assert done.response.choices[0].message.content == sync["choices"][0]["message"]["content"]
    assert done.response.usage is not None
    assert done.response.usage.model_dump() == sync["usage"]


async def test_reasoning_effort_changes_the_duration(jobs_client: httpx.AsyncClient) -> None:
    low = await create(jobs_client, {"request": {**job_body()["request"], "reasoning_effort": "low"}})
    high = await create(jobs_client, {"request": {**job_body()["request"], "reasoning_effort": "high"}})
    await advance(jobs_client, QUEUE + RESEARCH * 0.5)
    assert (await get(jobs_client, low["id"])).json()["status"] == "COMPLETED"
    assert (await get(jobs_client, high["id"])).json()["status"] == "IN_PROGRESS"


async def test_time_scale_zero_completes_on_the_first_poll() -> None:
    transport = httpx.ASGITransport(app=make_app(time_scale=0))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://m", headers={"Authorization": "Bearer pplx-k"}
    ) as client:
        job = await create(client, job_body())
        assert job["status"] == "CREATED"
        assert (await get(client, job["id"])).json()["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("header", "message"), [("1", DEFAULT_FAILURE), ("Upstream research timed out", "Upstream research timed out")]
)
async def test_failure_on_request(jobs_client: httpx.AsyncClient, header: str, message: str) -> None:
    job = await create(jobs_client, job_body(), headers={"X-Mock-Job-Fail": header})
    await advance(jobs_client, QUEUE + RESEARCH)
    failed = (await get(jobs_client, job["id"])).json()
    assert failed["status"] == "FAILED" and failed["failed_at"] == int(T0 + QUEUE + RESEARCH)
    assert failed["error_message"] == message
    assert failed["completed_at"] is None and failed["response"] is None


async def test_failure_from_an_error_fixture(tmp_path: Path) -> None:
    for path in bundled_fixtures_dir().rglob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    error = {
        "error": {"message": "An internal server error has occurred.", "type": "internal_server_error", "code": 500}
    }
    fixture = {
        "endpoint": "chat.completions",
        "match": {"model": "sonar-deep-research", "last_user_message": {"contains": "too large"}},
        "response": {"status": 500, "body": error},
    }
    (tmp_path / "deep-research-fails.json").write_text(json.dumps(fixture), encoding="utf-8")
    transport = httpx.ASGITransport(app=make_app(fixtures=tmp_path))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://m", headers={"Authorization": "Bearer pplx-k"}
    ) as client:
        job = await create(client, job_body("A prompt that is far too large"))
        failed = (await get(client, job["id"])).json()
    assert (failed["status"], failed["error_message"]) == ("FAILED", "An internal server error has occurred.")


async def test_idempotency_key_returns_the_same_job(jobs_client: httpx.AsyncClient) -> None:
    first = await create(jobs_client, job_body(idempotency_key="report-42"))
    await advance(jobs_client, QUEUE)
    again = await create(jobs_client, job_body(idempotency_key="report-42"))
    assert again["id"] == first["id"] and again["status"] == "IN_PROGRESS"
    other = await create(jobs_client, job_body(idempotency_key="report-42"), headers=OTHER_KEY)
    assert other["id"] != first["id"]
    listed = (await jobs_client.get("/async/chat/completions")).json()["requests"]
    assert [job["id"] for job in listed] == [first["id"]]


async def test_jobs_belong_to_their_key(jobs_client: httpx.AsyncClient) -> None:
    job = await create(jobs_client, job_body())
    assert (await get(jobs_client, job["id"], headers=OTHER_KEY)).status_code == 404
    assert (await jobs_client.get("/async/chat/completions", headers=OTHER_KEY)).json() == {
        "requests": [],
        "next_token": None,
    }


async def test_jobs_expire_after_seven_days(jobs_client: httpx.AsyncClient) -> None:
    job = await create(jobs_client, job_body(idempotency_key="k"))
    await advance(jobs_client, TTL_SECONDS - 1)
    assert (await get(jobs_client, job["id"])).status_code == 200
    await advance(jobs_client, 1)
    gone = await get(jobs_client, job["id"])
    assert gone.status_code == 404
    assert (await jobs_client.get("/async/chat/completions")).json()["requests"] == []
    assert (await create(jobs_client, job_body(idempotency_key="k")))["id"] != job["id"]


async def test_unknown_job_is_a_404_in_the_error_envelope(jobs_client: httpx.AsyncClient) -> None:
    response = await get(jobs_client, "no-such-job")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "Async request 'no-such-job' not found.", "type": "not_found", "code": 404}
    }


async def test_list_is_newest_first_with_summaries_and_pages(jobs_client: httpx.AsyncClient) -> None:
    created = []
    for index in range(7):
        created.append((await create(jobs_client, job_body(f"Question number {index}")))["id"])
        await advance(jobs_client, 1)
    seen: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"next_token": token} if token else {})}
        page = AsyncChatCompletionList.model_validate(
            (await jobs_client.get("/async/chat/completions", params=params)).json()
        )
        assert len(page.requests) <= 3
        seen += [job.id for job in page.requests]
        token = page.next_token
        if token is None:
            break
    assert seen == created[::-1]
    raw = (await jobs_client.get("/async/chat/completions")).json()["requests"][0]
    assert set(raw) == {"id", "model", "created_at", "status", "started_at", "completed_at", "failed_at"}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "many"}, {"next_token": "%%%"}])
async def test_bad_list_parameters(jobs_client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await jobs_client.get("/async/chat/completions", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_parameter"


@pytest.mark.parametrize(
    ("body", "type", "fragment"),
    [
        (chat_body("sonar-deep-research"), "invalid_request", "Missing required field: request"),
        ({"request": "hello"}, "invalid_request", "Missing required field: request"),
        ({"request": chat_body("sonar")}, "invalid_model", "only sonar-deep-research is"),
        ({"request": chat_body("sonar-deep-reseach")}, "invalid_model", "Invalid model 'sonar-deep-reseach'"),
        (
            {"request": {"model": "sonar-deep-research", "messages": [{"role": "assistant", "content": "x"}]}},
            "invalid_message",
            "Last message",
        ),
        ({**job_body(), "idempotency_key": 7}, "invalid_parameter", "idempotency_key"),
    ],
)
async def test_create_validation(
    jobs_client: httpx.AsyncClient, body: dict[str, Any], type: str, fragment: str
) -> None:
    response = await jobs_client.post("/async/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == type and fragment in response.json()["error"]["message"]


async def test_v1_aliases_share_the_store(jobs_client: httpx.AsyncClient) -> None:
    job = (await jobs_client.post("/v1/async/sonar", json=job_body())).json()
    assert (await get(jobs_client, job["id"])).status_code == 200
    assert (await jobs_client.get(f"/v1/async/sonar/{job['id']}")).json()["id"] == job["id"]
    assert [j["id"] for j in (await jobs_client.get("/v1/async/sonar")).json()["requests"]] == [job["id"]]


async def test_jobs_need_a_key(jobs_client: httpx.AsyncClient) -> None:
    response = await jobs_client.get("/async/chat/completions", headers={"Authorization": ""})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "ten"}, {"seconds": True}, {}, [5]])
async def test_clock_advance_rejects_bad_bodies(jobs_client: httpx.AsyncClient, body: Any) -> None:
    response = await jobs_client.post("/_mock/clock/advance", json=body)
    assert response.status_code == 400


async def test_control_plane_is_loopback_only() -> None:
    transport = httpx.ASGITransport(app=make_app(), client=("192.0.2.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        response = await client.post("/_mock/clock/advance", json={"seconds": 1})
    assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"
