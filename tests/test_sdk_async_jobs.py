"""The official SDK's async-job calls against the mock, strict response validation on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import perplexity
import pytest
from perplexity import AsyncPerplexity, Perplexity

from mock_server.clock import Clock
from tests.conftest import TEST_KEY, LiveServer, chat_body, make_app

REQUEST = chat_body("sonar-deep-research", "How far has solid-state battery research come?")


def test_sync_client_over_a_socket(live_server: LiveServer) -> None:
    client = Perplexity(
        api_key=TEST_KEY, base_url=live_server.base_url, _strict_response_validation=True, max_retries=0
    )
    job = client.async_.chat.completions.create(request=REQUEST, idempotency_key="sdk-sync")
    assert job.status == "CREATED" and job.response is None
    # Time scale 0: the job is complete on its first poll.
    done = client.async_.chat.completions.get(job.id)
    assert done.status == "COMPLETED" and done.response is not None
    assert done.response.model == "sonar-deep-research" and done.response.usage is not None
    assert done.response.usage.cost.search_queries_cost is not None
    listed = client.async_.chat.completions.list()
    assert job.id in [summary.id for summary in listed.requests]
    assert client.async_.chat.completions.create(request=REQUEST, idempotency_key="sdk-sync").id == job.id
    with pytest.raises(perplexity.NotFoundError):
        client.async_.chat.completions.get("missing")
    with pytest.raises(perplexity.BadRequestError):
        client.async_.chat.completions.create(request=chat_body("sonar-pro"))


@pytest.fixture
async def sdk_and_http() -> AsyncIterator[tuple[AsyncPerplexity, httpx.AsyncClient]]:
    app = make_app(Clock(source=lambda: 1_780_000_000.0), time_scale=1)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")
    sdk = AsyncPerplexity(
        api_key=TEST_KEY, base_url="http://mock", http_client=http, _strict_response_validation=True, max_retries=0
    )
    async with http:
        yield sdk, http


@pytest.mark.anyio
async def test_async_client_walks_the_lifecycle(sdk_and_http: tuple[AsyncPerplexity, httpx.AsyncClient]) -> None:
    sdk, http = sdk_and_http
    job = await sdk.async_.chat.completions.create(request=REQUEST)
    statuses = [job.status]
    for seconds in (5, 200):
        await http.post("/_mock/clock/advance", json={"seconds": seconds})
        statuses.append((await sdk.async_.chat.completions.get(job.id)).status)
    assert statuses == ["CREATED", "IN_PROGRESS", "COMPLETED"]
    failing = await sdk.async_.chat.completions.create(request=REQUEST, extra_headers={"X-Mock-Job-Fail": "quota"})
    await http.post("/_mock/clock/advance", json={"seconds": 300})
    failed = await sdk.async_.chat.completions.get(failing.id)
    assert (failed.status, failed.error_message, failed.response) == ("FAILED", "quota", None)
    page = await sdk.async_.chat.completions.list()
    assert [summary.id for summary in page.requests] == [failing.id, job.id]


@pytest.mark.anyio
async def test_isolation_expiry_and_pages(sdk_and_http: tuple[AsyncPerplexity, httpx.AsyncClient]) -> None:
    sdk, http = sdk_and_http
    ids = []
    for index in range(3):
        ids.append((await sdk.async_.chat.completions.create(request=chat_body("sonar-deep-research", f"Q{index}"))).id)
        await http.post("/_mock/clock/advance", json={"seconds": 1})
    other = sdk.with_options(api_key="pplx-someone-else")
    with pytest.raises(perplexity.NotFoundError):
        await other.async_.chat.completions.get(ids[0])
    assert (await other.async_.chat.completions.list()).requests == []
    # The SDK's list takes no parameters; the documented paging ones pass through extra_query.
    first = await sdk.async_.chat.completions.list(extra_query={"limit": 2})
    assert [job.id for job in first.requests] == ids[:0:-1] and first.next_token
    rest = await sdk.async_.chat.completions.list(extra_query={"limit": 2, "next_token": first.next_token})
    assert [job.id for job in rest.requests] == ids[:1] and rest.next_token is None
    await http.post("/_mock/clock/advance", json={"seconds": 7 * 24 * 3600})
    with pytest.raises(perplexity.NotFoundError):
        await sdk.async_.chat.completions.get(ids[0])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"request": chat_body("sonar")}, "invalid_model"),
        ({"request": chat_body("sonar-deep-research", max_tokens=1)}, "invalid_parameter"),
        (
            {"request": {"model": "sonar-deep-research", "messages": [{"role": "assistant", "content": "x"}]}},
            "invalid_message",
        ),
        ({"request": chat_body("sonar-deep-research", search_after_date_filter="2/30/2026")}, "invalid_parameter"),
    ],
)
async def test_validation_errors_reach_the_sdk(
    sdk_and_http: tuple[AsyncPerplexity, httpx.AsyncClient], body: dict[str, object], error_type: str
) -> None:
    sdk, _ = sdk_and_http
    with pytest.raises(perplexity.BadRequestError) as caught:
        await sdk.async_.chat.completions.create(**body)  # type: ignore[arg-type]
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == error_type
