"""The search engine behind `POST /search` and the `search_results` of chat answers.

A query is matched against the corpus with BM25 over words (titles count double); only pages that
pass every filter are ranked, ties break on the URL, so the same query always ranks the same way.
When no page in the corpus is relevant, pages are synthesized from the query's keywords, still
inside the filters. Snippets are the sentences that mention the query, joined as the real API
joins its extracts (`\\n` between neighbouring sentences, `\\n...\\n` across gaps), and cut to
the token budgets: once the request's budget is spent, later pages get an empty snippet, which the
real API also returns.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mock_server.corpus import Corpus, Page, words
from mock_server.search_filters import SearchFilters
from mock_server.synthesis import STOPWORDS, keywords
from mock_server.tokens import tokenize

# BM25's usual constants.
K1 = 1.2
B = 0.75
# A page must cover this share of the query's term weight, and score this share of the best
# page's score, to count as relevant.
MIN_COVERAGE = 0.34
MIN_RELATIVE_SCORE = 0.4
COUNTRY_BOOST = 1.25
# Synthesized pages are dated within this many days before today unless a filter says otherwise.
DEFAULT_WINDOW_DAYS = 3 * 365
GAP = "\n...\n"

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
_POOLS = {"web": WEB_DOMAINS, "academic": ACADEMIC_DOMAINS, "sec": SEC_DOMAINS}
_SNIPPETS = (
    "An overview of {a} and how it relates to {b}, with examples and references.",
    "This article explains {a}, compares common approaches to {b}, and lists trade-offs.",
    "Key findings on {a}: measurements, limitations, and what changes with {b}.",
    "A practical guide to {a}, covering {b} and frequently asked questions.",
    "Researchers report new results on {a}; the study also examines {b}.",
    "Background, history and current state of {a}, including recent work on {b}.",
)
_TITLE_SUFFIXES = ("an overview", "what the evidence says", "a practical guide", "recent results", "explained")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass(frozen=True)
class Hit:
    """A page found for a query, before its snippet is cut to a budget."""

    title: str
    url: str
    date: datetime.date | None
    last_updated: datetime.date | None
    # The text a snippet is cut from: extracts already in order, `GAP` between them.
    extract: str
    language: str = "en"
    # Made up for a query the corpus knows nothing about: its text says nothing worth quoting.
    synthesized: bool = False

    def first_sentence(self) -> str | None:
        """The extract's first whole sentence: what an answer citing this page can say."""
        if self.synthesized:
            return None
        sentence = _SENTENCE_END.split(self.extract.split("\n", 1)[0], maxsplit=1)[0].strip()
        return sentence if sentence[-1:] in ".!?。！？" else None

    def result(self, snippet: str) -> dict[str, str | None]:
        """The Search API's page object, keys in the order the real API sends them."""
        return {
            "snippet": snippet,
            "title": self.title,
            "url": self.url,
            "date": self.date.isoformat() if self.date else None,
            "last_updated": self.last_updated.isoformat() if self.last_updated else None,
        }


def query_terms(query: str) -> list[str]:
    """The words of a query that carry meaning, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in words(query):
        # Single kana are mostly particles, the stop words of Japanese; single kanji carry meaning.
        if word not in STOPWORDS and (len(word) > 1 or not (word.isascii() or "\u3040" <= word <= "\u30ff")):
            seen.setdefault(word)
    return list(seen)


def search(
    corpus: Corpus,
    query: str,
    filters: SearchFilters,
    limit: int,
    today: datetime.date,
    rng: random.Random,
    country: str | None = None,
) -> list[Hit]:
    """Up to `limit` pages for `query`, best first: from the corpus, else synthesized."""
    terms = query_terms(query)
    hits = _rank(corpus, terms, filters, country)[:limit]
    if hits:
        return hits
    return synthesize_hits(query, filters, limit, today, rng)


def _rank(corpus: Corpus, terms: Sequence[str], filters: SearchFilters, country: str | None) -> list[Hit]:
    if not terms or not corpus.pages:
        return []
    weights = {term: corpus.idf(term) for term in terms}
    total_weight = sum(weights.values())
    scored: list[tuple[float, str, Page]] = []
    for page in corpus.pages:
        if not _admits(page, filters):
            continue
        matched = [term for term in terms if term in page.term_counts]
        if not matched or sum(weights[term] for term in matched) < MIN_COVERAGE * total_weight:
            continue
        score = sum(weights[term] * _saturate(page.term_counts[term], page.length, corpus) for term in matched)
        if country is not None and page.document.country == country.upper():
            score *= COUNTRY_BOOST
        scored.append((score, page.document.url, page))
    scored.sort(key=lambda item: (-item[0], item[1]))
    floor = MIN_RELATIVE_SCORE * scored[0][0] if scored else 0.0
    return [_hit(page, terms) for score, _, page in scored if score >= floor]


def _saturate(count: int, length: int, corpus: Corpus) -> float:
    return count * (K1 + 1) / (count + K1 * (1 - B + B * length / corpus.average_length))


def _admits(page: Page, filters: SearchFilters) -> bool:
    document = page.document
    if filters.mode != "web" and document.mode != filters.mode:
        return False
    if filters.languages and document.language not in filters.languages:
        return False
    return filters.domains.admits(page.domain) and filters.admits_dates(document.date, document.last_updated)


def _hit(page: Page, terms: Sequence[str]) -> Hit:
    document = page.document
    extract = _extract(page, terms)
    return Hit(document.title, document.url, document.date, document.last_updated, extract, document.language)


def _extract(page: Page, terms: Sequence[str]) -> str:
    """The sentences that mention a query term, in page order; the first paragraph when none does."""
    wanted = set(terms)
    groups: list[list[str]] = []
    previous = -2
    position = 0
    for paragraph in page.paragraphs:
        for sentence in _SENTENCE_END.split(paragraph):
            if wanted.intersection(words(sentence)):
                if position != previous + 1 or not groups:
                    groups.append([])
                groups[-1].append(sentence)
                previous = position
            position += 1
    if not groups:
        return page.paragraphs[0] if page.paragraphs else ""
    return GAP.join("\n".join(group) for group in groups)


def cut_snippets(hits: Sequence[Hit], per_page: int, total: int) -> list[str]:
    """Each hit's extract cut to `per_page` tokens while the `total` budget lasts, then ""."""
    snippets: list[str] = []
    remaining = total
    for hit in hits:
        pieces = tokenize(hit.extract)[: min(per_page, remaining)]
        remaining -= len(pieces)
        snippets.append("".join(pieces).strip())
    return snippets


def synthesize_hits(
    query: str, filters: SearchFilters, limit: int, today: datetime.date, rng: random.Random
) -> list[Hit]:
    """Plausible pages for a query the corpus knows nothing about, inside every filter.

    Synthesized pages are English, so a language filter without `en` leaves nothing to show.
    """
    if filters.languages and "en" not in filters.languages:
        return []
    domains = _candidate_domains(filters)
    published_from, published_to = filters.published_window(today, DEFAULT_WINDOW_DAYS)
    if not domains or published_from > published_to:
        return []
    phrases = keywords(query) or ["the topic"]
    hits: list[Hit] = []
    for rank in range(min(limit, rng.randint(5, 10))):
        published = _pick_date(rng, published_from, published_to)
        updated_from, updated_to = filters.updated_window(published, today)
        if updated_from > updated_to:
            continue
        updated = _pick_date(rng, updated_from, updated_to)
        if not filters.admits_dates(published, updated):
            continue
        domain = domains[rank % len(domains)]
        a, b = phrases[rank % len(phrases)], phrases[(rank + 1) % len(phrases)]
        slug = "-".join(re.sub(r"[^a-z0-9]+", "-", phrase.lower()).strip("-") for phrase in (a, b))
        title = f"{a.capitalize()} and {b}: {_TITLE_SUFFIXES[rank % len(_TITLE_SUFFIXES)]}"
        extract = _SNIPPETS[rng.randrange(len(_SNIPPETS))].format(a=a, b=b)
        hits.append(Hit(title, f"https://{domain}/{slug}-{rank + 1}", published, updated, extract, synthesized=True))
    return hits


def _candidate_domains(filters: SearchFilters) -> list[str]:
    pool = _POOLS.get(filters.mode, WEB_DOMAINS)
    allow = filters.domains.allow
    # Allowed domains are searched even when they are not in the built-in pool.
    domains = list(dict.fromkeys([*allow, *pool])) if allow else list(pool)
    return [domain for domain in domains if filters.domains.admits(domain)]


def _pick_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))
