"""POST /search: validation, ranking over a corpus, filters, budgets, fixtures, multi-query."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from contract.schemas import SearchResponse
from mock_server.clock import Clock
from mock_server.corpus import load_corpus
from mock_server.fixtures import FixtureError
from mock_server.search_filters import covers, domain_of
from mock_server.tokens import count_tokens
from tests.conftest import AUTH, make_app

pytestmark = pytest.mark.anyio

# 2026-06-15T12:00:00Z: a fixed "today" for date windows.
NOW = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC).timestamp()


def document(url: str, title: str, content: str, **fields: Any) -> dict[str, Any]:
    return {
        "url": url,
        "title": title,
        "date": fields.pop("date", "2025-01-10"),
        "last_updated": fields.pop("last_updated", "2026-01-10"),
        "language": fields.pop("language", "en"),
        "mode": fields.pop("mode", "web"),
        "content": content,
        **fields,
    }


CORPUS = [
    document(
        "https://en.wikipedia.org/wiki/Paris",
        "Paris - Wikipedia",
        "Paris is the capital and largest city of France.\n\nThe city lies on the Seine. "
        "It is known for its museums.\n\nParis hosted the Olympic Games several times.",
        country="FR",
    ),
    document(
        "https://fr.wikipedia.org/wiki/Paris",
        "Paris — Wikipédia",
        "Paris est la capitale de la France. La ville est traversée par la Seine.",
        language="fr",
        country="FR",
        date="2024-03-01",
    ),
    document(
        "https://www.britannica.com/place/France",
        "France | Facts & History",
        "France is a country in western Europe. Its capital is Paris.",
        date=None,
        last_updated="2026-05-01",
    ),
    document(
        "https://arxiv.org/abs/2401.00001",
        "Batching strategies for LLM inference throughput",
        "We study batching and its effect on inference throughput.\n\nLarger batches raise throughput.",
        mode="academic",
        date="2026-06-10",
        last_updated="2026-06-12",
    ),
    document(
        "https://www.sec.gov/Archives/edgar/form10k-overview",
        "Form 10-K annual report overview",
        "A Form 10-K is an annual report that public companies file with the SEC.",
        mode="sec",
        country="US",
        date="2023-02-01",
        last_updated="2024-02-01",
    ),
]


@pytest.fixture
def fixtures_dir(tmp_path: Path) -> Path:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "test.yaml").write_text(yaml.safe_dump({"documents": CORPUS}), encoding="utf-8")
    return tmp_path


async def post_search(fixtures_dir: Path | None = None, /, **body: Any) -> httpx.Response:
    settings: dict[str, Any] = {"fixtures": fixtures_dir} if fixtures_dir is not None else {}
    app = make_app(Clock(source=lambda: NOW), **settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=AUTH) as c:
        return await c.post("/search", json=body)


async def results(fixtures_dir: Path | None = None, /, **body: Any) -> list[dict[str, Any]]:
    response = await post_search(fixtures_dir, **body)
    assert response.status_code == 200, response.text
    parsed = SearchResponse.model_validate(response.json())
    return [page.model_dump() for page in parsed.results]


def urls(pages: list[dict[str, Any]]) -> list[str]:
    return [page["url"] for page in pages]


# -- shape ---------------------------------------------------------------------------------------


async def test_response_shape_matches_the_real_one(fixtures_dir: Path) -> None:
    response = await post_search(fixtures_dir, query="capital of France")
    body = response.json()
    assert list(body) == ["id", "results", "server_time"]
    assert body["server_time"] is None
    assert response.headers["x-request-id"] == body["id"]
    assert list(body["results"][0]) == ["snippet", "title", "url", "date", "last_updated"]
    assert "usage" not in body


async def test_server_time_when_asked(fixtures_dir: Path) -> None:
    body = (await post_search(fixtures_dir, query="Paris", display_server_time=True)).json()
    assert body["server_time"] == "2026-06-15T12:00:00Z"


# -- ranking -------------------------------------------------------------------------------------


async def test_ranks_relevant_corpus_pages_first_and_deterministically(fixtures_dir: Path) -> None:
    first = await results(fixtures_dir, query="What is the capital of France?")
    # Both English pages name the capital; the short encyclopedia entry wins on BM25's length norm.
    assert urls(first)[:2] == ["https://www.britannica.com/place/France", "https://en.wikipedia.org/wiki/Paris"]
    assert "https://arxiv.org/abs/2401.00001" not in urls(first)
    assert first == await results(fixtures_dir, query="What is the capital of France?")


async def test_country_boosts_local_pages(fixtures_dir: Path) -> None:
    plain = urls(await results(fixtures_dir, query="France capital Paris"))
    french = urls(await results(fixtures_dir, query="France capital Paris", country="FR"))
    assert set(plain) == set(french)
    assert french.index("https://fr.wikipedia.org/wiki/Paris") <= plain.index("https://fr.wikipedia.org/wiki/Paris")


async def test_unknown_topic_falls_back_to_synthesized_pages(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="quantum knitting patterns", max_results=4)
    assert 1 <= len(pages) <= 4
    assert all(page["snippet"] for page in pages)
    assert pages == await results(fixtures_dir, query="quantum knitting patterns", max_results=4)


async def test_max_results_is_never_exceeded() -> None:
    for limit in (1, 3, 20):
        pages = await results(query="history of the internet protocols", max_results=limit)
        assert 1 <= len(pages) <= limit


async def test_people_search_may_ask_for_more_than_20_results() -> None:
    # "max_results above 20 is only supported for people search" (SDK 0.46 docstring).
    pages = await results(query="Marie Curie", search_type="people", max_results=30)
    assert 1 <= len(pages) <= 30


# -- filters -------------------------------------------------------------------------------------


async def test_domain_allow_list_covers_subdomains(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris capital France", search_domain_filter=["wikipedia.org"])
    assert set(urls(pages)) == {"https://en.wikipedia.org/wiki/Paris", "https://fr.wikipedia.org/wiki/Paris"}


async def test_domain_deny_list(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris capital France", search_domain_filter=["-en.wikipedia.org"])
    assert "https://en.wikipedia.org/wiki/Paris" not in urls(pages)
    assert "https://fr.wikipedia.org/wiki/Paris" in urls(pages)


async def test_allow_list_outside_the_corpus_synthesizes_on_those_domains(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris", search_domain_filter=["example.org"])
    assert pages and all(covers("example.org", domain_of(url)) for url in urls(pages))


async def test_language_filter(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris capitale France", search_language_filter=["fr"])
    assert urls(pages) == ["https://fr.wikipedia.org/wiki/Paris"]
    # Synthesized pages are English: nothing to show in a language the corpus lacks.
    assert await results(fixtures_dir, query="Paris", search_language_filter=["ja"]) == []


async def test_publication_window_excludes_undated_pages(fixtures_dir: Path) -> None:
    pages = await results(
        fixtures_dir,
        query="France capital Paris",
        search_after_date_filter="01/01/2025",
        search_before_date_filter="12/31/2025",
    )
    assert urls(pages) == ["https://en.wikipedia.org/wiki/Paris"]


async def test_recency_filter_is_relative_to_the_mock_clock(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="inference throughput batching", search_recency_filter="week")
    assert urls(pages) == ["https://arxiv.org/abs/2401.00001"]
    assert all(page["date"] >= "2026-06-08" for page in pages)


async def test_last_updated_window(fixtures_dir: Path) -> None:
    pages = await results(
        fixtures_dir, query="France capital Paris", last_updated_after_filter="04/01/2026", max_results=20
    )
    assert urls(pages) == ["https://www.britannica.com/place/France"]


@pytest.mark.parametrize(("mode", "expected"), [("academic", "arxiv.org"), ("sec", "sec.gov")])
async def test_search_mode_restricts_sources(fixtures_dir: Path, mode: str, expected: str) -> None:
    query = "batching inference throughput" if mode == "academic" else "annual report 10-K"
    pages = await results(fixtures_dir, query=query, search_mode=mode)
    assert pages and all(domain_of(url) == expected for url in urls(pages))


async def test_synthesized_pages_honour_every_filter(fixtures_dir: Path) -> None:
    pages = await results(
        fixtures_dir,
        query="underwater basket weaving",
        search_domain_filter=["nature.com", "arxiv.org", "-arxiv.org"],
        search_after_date_filter="03/01/2026",
        last_updated_before_filter="06/01/2026",
    )
    assert pages
    for page in pages:
        assert covers("nature.com", domain_of(page["url"]))
        assert "2026-03-01" <= page["date"] <= page["last_updated"] <= "2026-06-01"


async def test_impossible_filters_give_no_results(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris", search_domain_filter=["wikipedia.org", "-wikipedia.org"])
    assert pages == []


# -- token budgets -------------------------------------------------------------------------------


async def test_snippets_respect_the_per_page_budget(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris capital France", max_tokens_per_page=5)
    assert pages and all(count_tokens(page["snippet"]) <= 5 for page in pages)
    assert any(page["snippet"] for page in pages)


async def test_total_budget_empties_later_snippets(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query="Paris capital France", max_tokens=12)
    assert sum(count_tokens(page["snippet"]) for page in pages) <= 12
    assert pages[0]["snippet"] and pages[-1]["snippet"] == ""


async def test_snippets_are_extracts_joined_like_the_real_ones(fixtures_dir: Path) -> None:
    (paris, *_) = await results(fixtures_dir, query="Paris capital Olympic")
    # Sentences 1 and 4 mention the query; the gap between them is marked as the API marks it.
    assert paris["snippet"] == (
        "Paris is the capital and largest city of France.\n...\nParis hosted the Olympic Games several times."
    )


async def test_context_size_sets_the_per_page_budget_unless_explicit(fixtures_dir: Path) -> None:
    low = await results(fixtures_dir, query="underwater basket weaving", search_context_size="low")
    explicit = await results(
        fixtures_dir, query="underwater basket weaving", search_context_size="low", max_tokens_per_page=3
    )
    assert all(count_tokens(page["snippet"]) <= 3 for page in explicit)
    assert any(count_tokens(page["snippet"]) > 3 for page in low)


# -- multi-query ---------------------------------------------------------------------------------


async def test_multi_query_is_one_flat_list_by_default(fixtures_dir: Path) -> None:
    pages = await results(fixtures_dir, query=["capital of France", "inference throughput batching"], max_results=2)
    assert urls(pages) == ["https://www.britannica.com/place/France", "https://arxiv.org/abs/2401.00001"]


async def test_multi_query_grouped_mode(fixtures_dir: Path) -> None:
    app = make_app(Clock(source=lambda: NOW), fixtures=fixtures_dir, search_multi_query="grouped")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=AUTH) as c:
        grouped = (await c.post("/search", json={"query": ["Paris capital", "batching throughput"]})).json()
        single = (await c.post("/search", json={"query": "Paris capital"})).json()
    assert len(grouped["results"]) == 2
    assert grouped["results"][1][0]["url"] == "https://arxiv.org/abs/2401.00001"
    # A single query keeps the flat shape in either mode.
    assert isinstance(single["results"][0], dict)


# -- fixtures ------------------------------------------------------------------------------------


async def test_the_real_example_replays_from_its_fixture() -> None:
    body = (await post_search(None, query="OpenAI o-series reasoning model benchmarks")).json()
    assert len(body["results"]) == 9
    assert body["results"][0]["url"] == "https://developers.openai.com/api/docs/guides/reasoning-best-practices"
    assert body["id"] != "169d5d3b-272a-46ca-a59d-7c218f9d5ce2"


async def test_recorded_results_still_obey_filters_and_limits() -> None:
    query = "OpenAI o-series reasoning model benchmarks"
    pages = await results(None, query=query, search_domain_filter=["openai.com"], max_results=2)
    assert urls(pages) == [
        "https://developers.openai.com/api/docs/guides/reasoning-best-practices",
        "https://openai.com/index/learning-to-reason-with-llms/",
    ]
    dated = await results(None, query=query, search_after_date_filter="01/01/2025")
    assert dated and all(page["date"] is not None and page["date"] >= "2025-01-01" for page in dated)


async def test_an_error_fixture_answers_with_its_status(tmp_path: Path) -> None:
    error = {"error": {"message": "Search is unavailable.", "type": "service_unavailable", "code": 503}}
    fixture = {
        "endpoint": "search",
        "match": {"query": {"contains": "outage"}},
        "response": {"status": 503, "body": error},
    }
    (tmp_path / "outage.json").write_text(json.dumps(fixture), encoding="utf-8")
    response = await post_search(tmp_path, query="simulate an outage")
    assert (response.status_code, response.json()) == (503, error)


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ({"model": "sonar"}, "match.model does not apply to search"),
        ({"last_user_message": {"equals": "x"}}, "match.last_user_message does not apply to search"),
    ],
)
async def test_chat_criteria_in_a_search_fixture_are_rejected(tmp_path: Path, match: Any, message: str) -> None:
    fixture = {"endpoint": "search", "match": match, "response": {"body": {"id": "x", "results": []}}}
    (tmp_path / "bad.json").write_text(json.dumps(fixture), encoding="utf-8")
    with pytest.raises(FixtureError, match=message):
        make_app(fixtures=tmp_path)


# -- the corpus files ----------------------------------------------------------------------------


def test_a_broken_corpus_file_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    broken = {"documents": [{**CORPUS[0], "last_updated": "2020-01-01", "date": "2021-01-01"}]}
    (tmp_path / "corpus" / "broken.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(FixtureError, match=r"broken\.yaml: documents\.0: .*last_updated is earlier than date"):
        load_corpus(tmp_path)


@pytest.mark.parametrize(
    "text", ["documents: " + "[" * 5000 + "]" * 5000, "documents: " + "9" * 5000], ids=["deep", "huge-integer"]
)
def test_a_corpus_file_past_the_parser_s_limits_is_one_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "odd.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FixtureError, match=r"odd\.yaml: ") as caught:
        load_corpus(tmp_path)
    assert "\n" not in str(caught.value)


def test_duplicate_urls_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "corpus" / name).write_text(yaml.safe_dump({"documents": [CORPUS[0]]}), encoding="utf-8")
    with pytest.raises(FixtureError, match=r"b\.yaml: documents\.0\.url: .* is also in .*a\.yaml"):
        load_corpus(tmp_path)


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Missing required field: query."),
        ({"query": ""}, "query must not be blank."),
        ({"query": []}, "query must hold between 1 and 5 queries, got 0."),
        ({"query": ["a"] * 6}, "query must hold between 1 and 5 queries, got 6."),
        ({"query": ["a", 1]}, "query must be a string or a list of up to 5 strings."),
        (
            {"query": "a", "max_results": 0},
            "Invalid value for max_results: Input should be greater than or equal to 1.",
        ),
        ({"query": "a", "max_results": 21}, "Invalid value for max_results: Input should be less than or equal to 20."),
        (
            {"query": "a", "max_results": 21, "search_type": "web"},
            "Invalid value for max_results: Input should be less than or equal to 20.",
        ),
        (
            {"query": "a", "max_results": 51, "search_type": "people"},
            "Invalid value for max_results: Input should be less than or equal to 50.",
        ),
        ({"query": "a", "max_tokens": 0}, "Invalid value for max_tokens: Input should be greater than or equal to 1."),
        (
            {"query": "a", "max_tokens_per_page": 1_000_001},
            "Invalid value for max_tokens_per_page: Input should be less than or equal to 1000000.",
        ),
        ({"query": "a", "country": "USA"}, "Invalid value for country: String should match pattern '^[a-zA-Z]{2}$'."),
        (
            {"query": "a", "search_domain_filter": ["a.com"] * 21},
            "Invalid value for search_domain_filter: List should have at most 20 items after validation, not 21.",
        ),
        ({"query": "a", "search_domain_filter": ["-"]}, "search_domain_filter contains an empty domain: '-'."),
        (
            {"query": "a", "search_language_filter": ["eng"]},
            "Invalid value for search_language_filter.0: String should match pattern '^[a-zA-Z]{2}$'.",
        ),
        (
            {"query": "a", "search_recency_filter": "decade"},
            "Invalid value for search_recency_filter: Input should be 'hour', 'day', 'week', 'month' or 'year'.",
        ),
        (
            {"query": "a", "search_before_date_filter": "2025-01-01"},
            "Invalid value for search_before_date_filter: String should match pattern "
            "'^(0?[1-9]|1[0-2])/(0?[1-9]|[12]\\d|3[01])/\\d{4}$'.",
        ),
        (
            {"query": "a", "last_updated_after_filter": "2/30/2026"},
            "last_updated_after_filter is not a valid date: '2/30/2026'. Use MM/DD/YYYY.",
        ),
        (
            {"query": "a", "search_recency_filter": "day", "search_before_date_filter": "1/1/2026"},
            "search_recency_filter cannot be combined with search_after_date_filter or search_before_date_filter.",
        ),
        (
            {"query": "a", "search_after_date_filter": "2/1/2026", "search_before_date_filter": "1/1/2026"},
            "search_after_date_filter must not be later than search_before_date_filter.",
        ),
        (
            {"query": "a", "search_mode": "news"},
            "Invalid value for search_mode: Input should be 'web', 'academic' or 'sec'.",
        ),
        (
            {"query": "a", "search_type": "deep"},
            "Invalid value for search_type: Input should be 'web', 'fast' or 'people'.",
        ),
    ],
)
async def test_invalid_requests_get_the_real_400(body: dict[str, Any], message: str) -> None:
    response = await post_search(None, **body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["code"] == 400


async def test_unknown_fields_are_ignored() -> None:
    assert (await post_search(None, query="Paris", made_up=True)).status_code == 200


async def test_auth_and_body_errors(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/search", json={"query": "a"}, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (await client.post("/search", content=b"{", headers={"Content-Type": "application/json"})).status_code == 400
    assert (await client.post("/search", content=b"query", headers={"Content-Type": "text/plain"})).status_code == 415
    assert (await client.post("/search", json=["a"])).json()["error"][
        "message"
    ] == "Request body must be a JSON object."


async def test_search_has_its_tier_free_rate_limit() -> None:
    app = make_app(Clock(source=lambda: NOW))
    headers = {"Authorization": "Bearer pplx-ci-tier0-search"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=headers) as c:
        answers = [await c.post("/search", json={"query": "Paris"}) for _ in range(51)]
        # Validation comes after the limit: a bad body costs a token too.
        limited_bad_body = await c.post("/search", json={"query": ""})
    assert [a.status_code for a in answers] == [200] * 50 + [429]
    assert answers[0].headers["x-ratelimit-limit"] == "50"
    assert answers[-1].json()["error"]["type"] == "request_rate_limit_exceeded"
    assert answers[-1].headers["retry-after-ms"] == "20"
    assert limited_bad_body.status_code == 429
