"""Search results for chat answers: deterministic, plausible, and faithful to the request's filters.

Results honour `search_domain_filter` (allow entries, `-deny` entries, subdomains covered),
`search_mode`, `search_recency_filter` and the four date windows, and come out ranked the same way
for the same request and seed.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from contract.schemas import ChatCompletionRequest

WEB_DOMAINS = (
    "en.wikipedia.org",
    "www.reuters.com",
    "www.bbc.com",
    "github.com",
    "stackoverflow.com",
    "www.nature.com",
    "www.theverge.com",
    "techcrunch.com",
    "www.ibm.com",
    "aws.amazon.com",
    "blog.cloudflare.com",
    "developer.mozilla.org",
    "www.economist.com",
    "www.nytimes.com",
    "docs.python.org",
    "medium.com",
)
ACADEMIC_DOMAINS = (
    "arxiv.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "pubmed.ncbi.nlm.nih.gov",
    "link.springer.com",
    "www.sciencedirect.com",
    "www.nature.com",
    "openreview.net",
)
SEC_DOMAINS = ("www.sec.gov",)
RECENCY_DAYS = {"hour": 0, "day": 1, "week": 7, "month": 30, "year": 365}
DEFAULT_WINDOW_DAYS = 3 * 365
_SNIPPETS = (
    "An overview of {a} and how it relates to {b}, with examples and references.",
    "This article explains {a}, compares common approaches to {b}, and lists trade-offs.",
    "Key findings on {a}: measurements, limitations, and what changes with {b}.",
    "A practical guide to {a}, covering {b} and frequently asked questions.",
    "Researchers report new results on {a}; the study also examines {b}.",
    "Background, history and current state of {a}, including recent work on {b}.",
)


@dataclass(frozen=True)
class DomainFilter:
    allow: tuple[str, ...]
    deny: tuple[str, ...]

    @classmethod
    def parse(cls, entries: Sequence[str] | None) -> DomainFilter:
        allow: list[str] = []
        deny: list[str] = []
        for entry in entries or ():
            target = deny if entry.strip().startswith("-") else allow
            target.append(normalize_domain(entry.strip().lstrip("-")))
        return cls(tuple(allow), tuple(deny))

    def admits(self, domain: str) -> bool:
        if any(covers(rule, domain) for rule in self.deny):
            return False
        return not self.allow or any(covers(rule, domain) for rule in self.allow)


def normalize_domain(entry: str) -> str:
    entry = re.sub(r"^[a-z][a-z0-9+.-]*://", "", entry.strip().lower())
    entry = entry.split("/", 1)[0]
    return entry.removeprefix("www.")


def covers(rule: str, domain: str) -> bool:
    """A main domain covers its subdomains: `example.com` admits `docs.example.com`."""
    domain = domain.lower().removeprefix("www.")
    return domain == rule or domain.endswith("." + rule)


def candidate_domains(request: ChatCompletionRequest) -> list[str]:
    pool = {"academic": ACADEMIC_DOMAINS, "sec": SEC_DOMAINS}.get(request.search_mode or "web", WEB_DOMAINS)
    filters = DomainFilter.parse(request.search_domain_filter)
    # Allowed domains are searched even when they are not in the built-in pool.
    domains = list(dict.fromkeys([*filters.allow, *pool])) if filters.allow else list(pool)
    return [domain for domain in domains if filters.admits(domain)]


def date_window(request: ChatCompletionRequest, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    if request.search_recency_filter is not None:
        return today - datetime.timedelta(days=RECENCY_DAYS[request.search_recency_filter]), today
    start = _parse_date(request.search_after_date_filter) or today - datetime.timedelta(days=DEFAULT_WINDOW_DAYS)
    end = _parse_date(request.search_before_date_filter) or today
    return start, min(end, today)


def updated_window(request: ChatCompletionRequest, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = _parse_date(request.last_updated_after_filter) or datetime.date(1990, 1, 1)
    end = _parse_date(request.last_updated_before_filter) or today
    return start, end


def find_sources(
    request: ChatCompletionRequest, keywords: Sequence[str], rng: random.Random, today: datetime.date
) -> list[dict[str, object]]:
    """Search results for a chat answer, in ranking order; empty when nothing can satisfy the filters."""
    if request.disable_search:
        return []
    domains = candidate_domains(request)
    published_from, published_to = date_window(request, today)
    updated_from, updated_to = updated_window(request, today)
    if not domains or published_from > published_to or updated_from > updated_to:
        return []
    wanted = min(request.num_search_results or 10, rng.randint(5, 10))
    words = list(keywords) or ["the topic"]
    results: list[dict[str, object]] = []
    for rank in range(wanted):
        domain = domains[rank % len(domains)]
        a, b = words[rank % len(words)], words[(rank + 1) % len(words)]
        published = _pick_date(rng, published_from, published_to)
        updated = _pick_date(rng, max(published, updated_from), updated_to) if published <= updated_to else None
        if updated is None or updated < updated_from:
            continue
        slug = "-".join(re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-") for word in (a, b))
        results.append(
            {
                "title": f"{a.capitalize()} and {b}: {_TITLE_SUFFIXES[rank % len(_TITLE_SUFFIXES)]}",
                "url": f"https://{domain}/{slug}-{rank + 1}",
                "date": published.isoformat(),
                "last_updated": updated.isoformat(),
                "snippet": _SNIPPETS[rng.randrange(len(_SNIPPETS))].format(a=a, b=b),
                "source": "web",
            }
        )
    return results


_TITLE_SUFFIXES = ("an overview", "what the evidence says", "a practical guide", "recent results", "explained")


def _pick_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _parse_date(value: str | None) -> datetime.date | None:
    if value is None:
        return None
    month, day, year = (int(part) for part in value.split("/"))
    return datetime.date(year, month, day)
