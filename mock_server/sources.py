"""Search results for chat answers, from the same engine and filters as the Search API."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, replace

from contract.schemas import ChatCompletionRequest
from mock_server.corpus import Corpus
from mock_server.search_engine import GAP, cut_snippets, search
from mock_server.search_filters import SearchFilters
from mock_server.synthesis import question_text

DEFAULT_RESULTS = 10
# Chat answers show one short extract cut with " ..." (about 160 characters in the 2026 capture);
# the context size buying longer ones is our choice: the real budget is not documented.
SNIPPET_TOKENS = {"low": 40, "medium": 80, "high": 160}


@dataclass(frozen=True)
class Sources:
    # The answer's `search_results`, in ranking order.
    results: list[dict[str, object]]
    # For each result, a sentence of the page the answer can state and cite, or None.
    facts: list[str | None]


def find_sources(request: ChatCompletionRequest, corpus: Corpus, rng: random.Random, today: datetime.date) -> Sources:
    """What a chat answer cites; nothing when search is off or the filters leave nothing."""
    if request.disable_search:
        return Sources([], [])
    filters = SearchFilters.from_request(request, today)
    limit = request.num_search_results or DEFAULT_RESULTS
    # The search component sees the user's words, not the system prompt (prompt guide).
    hits = search(corpus, question_text(request), filters, limit, today, rng)
    options = request.web_search_options
    per_page = SNIPPET_TOKENS[options.search_context_size if options is not None else "low"]
    results: list[dict[str, object]] = []
    for hit in hits:
        extract = hit.extract.replace(GAP, " ").replace("\n", " ")
        (snippet,) = cut_snippets([replace(hit, extract=extract)], per_page, per_page)
        page = hit.result(snippet + " ..." if len(snippet) < len(extract) else snippet)
        # The chat API's key order (2026 capture), which differs from the Search API's.
        results.append({key: page[key] for key in ("title", "url", "date", "last_updated", "snippet")})
        results[-1]["source"] = "web"
    # Answers are written in English unless the request asks for pages in other languages.
    languages = set(filters.languages) or {"en"}
    return Sources(results, [hit.first_sentence() if hit.language in languages else None for hit in hits])
