"""POST /search: ranked web pages for one query or up to five, from fixtures or the corpus."""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from contract.schemas import SearchRequest
from mock_server.body import read_json
from mock_server.connection import wait_while_connected
from mock_server.fixtures import Fixture
from mock_server.ratelimit import enforce_rate_limit
from mock_server.recorder import FIXTURE_STATE_KEY
from mock_server.search_engine import Hit, cut_snippets, search
from mock_server.search_filters import SearchFilters, domain_of
from mock_server.sse import encode_json
from mock_server.state import MockState, mock_state
from mock_server.strictness import parse_search

# Per-page budgets for `search_context_size` when `max_tokens_per_page` is not given. The SDK says
# larger sizes "return more page content" and default to high; the numbers are our choice, with
# high equal to the documented `max_tokens_per_page` default.
CONTEXT_SIZE_TOKENS = {"low": 512, "medium": 2048, "high": 4096}


async def create_search(request: Request) -> Response:
    state = mock_state(request)
    key = state.keys.authenticate(request.scope)
    # One tier-free limit for every search (documented: 50 requests a second, burst 50).
    enforce_rate_limit(request, state, "search", key)
    payload = await read_json(request, state.settings.max_body_bytes)
    search_request = parse_search(state, payload)
    now = state.clock.time()
    fixture = state.fixtures.match("search", payload, search_request.queries())
    request.scope.setdefault("state", {})[FIXTURE_STATE_KEY] = state.fixtures.label(fixture)
    if fixture is not None and fixture.spec.response.status >= 400:
        response = fixture.spec.response
        return Response(encode_json(response.body), response.status, response.headers, "application/json")
    delay = state.settings.time_scale * state.settings.search_seconds
    if delay > 0:
        await wait_while_connected(request.receive, delay)
    search_id = str(uuid.uuid4())
    if fixture is not None:
        results: Any = _recorded_results(fixture, search_request, now)
    else:
        results = _search(state, search_request, payload, now)
    body = {"id": search_id, "results": results, "server_time": _server_time(search_request, now)}
    headers = {"x-request-id": search_id, **(fixture.spec.response.headers if fixture else {})}
    return Response(encode_json(body), 200, headers, "application/json")


def _search(state: MockState, request: SearchRequest, payload: dict[str, Any], now: float) -> Any:
    today = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
    filters = SearchFilters.from_request(request, today)
    rng = _request_rng(payload, state.settings.seed)
    per_query = [
        search(state.corpus, query, filters, request.max_results, today, rng, request.country)
        for query in request.queries()
    ]
    per_page = _per_page_budget(request)
    if state.settings.search_multi_query == "grouped" and isinstance(request.query, list):
        # Budgets run across the whole answer, in query order.
        flat = [hit for hits in per_query for hit in hits]
        remaining = iter(cut_snippets(flat, per_page, request.max_tokens))
        return [[hit.result(next(remaining)) for hit in hits] for hits in per_query]
    hits = _interleave(per_query, request.max_results)
    snippets = cut_snippets(hits, per_page, request.max_tokens)
    return [hit.result(snippet) for hit, snippet in zip(hits, snippets, strict=True)]


def _interleave(per_query: list[list[Hit]], limit: int) -> list[Hit]:
    """One flat list for several queries: their rankings taken in turn, each URL once."""
    merged: dict[str, Hit] = {}
    for rank in range(max((len(hits) for hits in per_query), default=0)):
        for hits in per_query:
            if rank < len(hits) and len(merged) < limit:
                merged.setdefault(hits[rank].url, hits[rank])
    return list(merged.values())


def _per_page_budget(request: SearchRequest) -> int:
    if "max_tokens_per_page" in request.model_fields_set or request.search_context_size is None:
        return request.max_tokens_per_page
    return CONTEXT_SIZE_TOKENS[request.search_context_size]


def _recorded_results(fixture: Fixture, request: SearchRequest, now: float) -> list[Any]:
    """A recorded answer, kept to the pages the request's domain and date filters admit, cut to `max_results`.

    Recorded pages do not say their language, so a language filter does not apply to them.
    """
    filters = SearchFilters.from_request(request, datetime.datetime.fromtimestamp(now, datetime.UTC).date())
    body = fixture.spec.response.body or {}
    admitted = [
        page
        for page in body.get("results", [])
        if filters.domains.admits(domain_of(page["url"]))
        and filters.admits_dates(_date(page.get("date")), _date(page.get("last_updated")))
    ]
    return admitted[: request.max_results]


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _server_time(request: SearchRequest, now: float) -> str | None:
    # The format of `server_time` is undocumented; ISO 8601 in UTC is our choice.
    if not request.display_server_time:
        return None
    return datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _request_rng(payload: dict[str, Any], seed: int) -> random.Random:
    """Synthesized pages depend on the request and the seed only."""
    canonical = json.dumps(payload, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{seed}:search:{canonical}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
