"""The Search API: `POST /search` request and response.

Written from the first-party schema fragments `post_search` (and its alternative version, which
adds `search_mode` and `display_server_time`), the official SDK's types (perplexityai 0.46) and
the real response in the SDK performance guide (2026-05-21). The request ignores unknown fields,
like every other endpoint of the API.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from contract.schemas.chat import SearchContextSize, SearchFilterFields

MAX_QUERIES = 5  # "up to 5 queries in a single multi-query request" (docs, Search best practices)
# "max_results above 20 is only supported for people search" (SDK 0.46 docstring), with no ceiling
# stated for people search: 50, the Agent API's `web_search` bound, is our choice.
MAX_RESULTS = 20
MAX_PEOPLE_RESULTS = 50

Query = Annotated[str, Field(min_length=1)]


class SearchRequest(SearchFilterFields):
    query: Query | Annotated[list[Query], Field(min_length=1, max_length=MAX_QUERIES)]
    max_results: int = Field(
        default=10,
        ge=1,
        le=MAX_PEOPLE_RESULTS,
        description=f"1-{MAX_RESULTS}; up to {MAX_PEOPLE_RESULTS} with `search_type` `people`.",
    )
    max_tokens: int = Field(default=10000, ge=1, le=1_000_000)
    max_tokens_per_page: int = Field(default=4096, ge=1, le=1_000_000)
    search_context_size: SearchContextSize | None = None
    search_type: Literal["web", "fast", "people"] | None = None
    country: Annotated[str, Field(pattern=r"^[a-zA-Z]{2}$")] | None = None
    display_server_time: bool = False

    def queries(self) -> list[str]:
        return [self.query] if isinstance(self.query, str) else list(self.query)


class SearchPage(BaseModel):
    """One result page; the real API sends the keys in this order and `snippet` may be ""."""

    snippet: str
    title: str
    url: str
    date: str | None = None
    last_updated: str | None = None


class SearchResponse(BaseModel):
    id: str
    results: list[SearchPage]
    # Present as null unless `display_server_time` was true.
    server_time: str | None = None
