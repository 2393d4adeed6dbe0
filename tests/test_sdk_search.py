"""The official SDK's `search.create` against the mock and its shipped corpus, strict validation on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import perplexity
import pytest
from perplexity import AsyncPerplexity, Perplexity

from mock_server.search_filters import covers, domain_of
from tests.conftest import TEST_KEY, LiveServer, make_app

QUERIES = [
    "What is the capital of France?",
    "How far has solid-state battery research come?",
    "rate limiting with exponential backoff and jitter",
    "large language model inference throughput",
]


@pytest.fixture
def sdk(live_server: LiveServer) -> Perplexity:
    return Perplexity(api_key=TEST_KEY, base_url=live_server.base_url, _strict_response_validation=True, max_retries=0)


def test_the_documented_example_over_a_socket(sdk: Perplexity) -> None:
    search = sdk.search.create(query="OpenAI o-series reasoning model benchmarks")
    assert len(search.results) == 9 and search.server_time is None
    assert search.results[2].url == "https://en.wikipedia.org/wiki/OpenAI_o1"
    raw = sdk.search.with_raw_response.create(query="OpenAI o-series reasoning model benchmarks")
    assert raw.headers["x-request-id"] == raw.parse().id


@pytest.mark.parametrize("query", QUERIES)
def test_the_corpus_answers_common_questions(sdk: Perplexity, query: str) -> None:
    results = sdk.search.create(query=query, max_results=5).results
    assert 1 <= len(results) <= 5
    # Real corpus pages, not synthesized ones: synthesized URLs end in "-<rank>".
    assert not results[0].url.rstrip("/").endswith("-1")
    assert all(result.snippet for result in results[:3])


@pytest.mark.parametrize("query", QUERIES)
def test_allow_list_is_never_left(sdk: Perplexity, query: str) -> None:
    allowed = ["wikipedia.org", "nature.com", "arxiv.org"]
    for result in sdk.search.create(query=query, search_domain_filter=allowed, max_results=20).results:
        assert any(covers(domain, domain_of(result.url)) for domain in allowed), result.url


@pytest.mark.parametrize("query", QUERIES)
def test_deny_list_is_respected(sdk: Perplexity, query: str) -> None:
    results = sdk.search.create(query=query, search_domain_filter=["-wikipedia.org", "-arxiv.org"]).results
    assert results
    assert not any(covers(d, domain_of(r.url)) for r in results for d in ("wikipedia.org", "arxiv.org"))


@pytest.mark.parametrize("query", QUERIES)
def test_date_windows_are_respected(sdk: Perplexity, query: str) -> None:
    results = sdk.search.create(
        query=query,
        search_after_date_filter="1/1/2024",
        search_before_date_filter="12/31/2025",
        last_updated_after_filter="6/1/2024",
        max_results=20,
    ).results
    for result in results:
        assert result.date is not None and "2024-01-01" <= result.date <= "2025-12-31"
        assert result.last_updated is not None and result.last_updated >= "2024-06-01"


def test_language_filter_finds_pages_in_that_language(sdk: Perplexity) -> None:
    results = sdk.search.create(query="Paris capitale de la France", search_language_filter=["fr"]).results
    assert results and all(".fr" in r.url or "fr." in r.url or "lemonde" in r.url for r in results[:1])


def test_academic_and_sec_modes(sdk: Perplexity) -> None:
    academic = sdk.search.create(query="transformer language models", search_mode="academic").results
    assert academic and all(
        any(
            covers(d, domain_of(r.url))
            for d in (
                "arxiv.org",
                "nature.com",
                "acm.org",
                "ieee.org",
                "nih.gov",
                "springer.com",
                "openreview.net",
                "thelancet.com",
                "sciencedirect.com",
            )
        )
        for r in academic
    )
    sec = sdk.search.create(query="annual report form 10-K", search_mode="sec").results
    assert sec and all(covers("sec.gov", domain_of(r.url)) for r in sec)


def test_multi_query_and_server_time(sdk: Perplexity) -> None:
    search = sdk.search.create(query=QUERIES[:3], max_results=6, display_server_time=True)
    assert 3 <= len(search.results) <= 6 and search.server_time is not None
    assert len({result.url for result in search.results}) == len(search.results)


def test_validation_errors_raise_bad_request(sdk: Perplexity) -> None:
    with pytest.raises(perplexity.BadRequestError) as caught:
        sdk.search.create(query="a", max_results=50)
    assert caught.value.status_code == 400
    with pytest.raises(perplexity.BadRequestError):
        sdk.search.create(query=["a"] * 6)
    with pytest.raises(perplexity.AuthenticationError):
        Perplexity(api_key="nope", base_url=sdk.base_url, max_retries=0).search.create(query="a")


@pytest.fixture
async def async_sdk() -> AsyncIterator[AsyncPerplexity]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://mock")
    async with http:
        yield AsyncPerplexity(
            api_key=TEST_KEY, base_url="http://mock", http_client=http, _strict_response_validation=True, max_retries=0
        )


@pytest.mark.anyio
async def test_async_client_in_process(async_sdk: AsyncPerplexity) -> None:
    first = await async_sdk.search.create(query=QUERIES[1], search_recency_filter="year")
    again = await async_sdk.search.create(query=QUERIES[1], search_recency_filter="year")
    assert [r.url for r in first.results] == [r.url for r in again.results]
    assert first.id != again.id
    with pytest.raises(perplexity.BadRequestError):
        await async_sdk.search.create(query="a", search_recency_filter="week", search_after_date_filter="1/1/2026")
