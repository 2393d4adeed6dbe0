"""Search filters as the API documents them, shared by the Search API and chat answers.

Both request kinds carry the same filter fields (`SearchFilterFields`), so `SearchFilters.from_request`
reads either.
Domain entries allow (`example.com`) or deny (`-example.com`); a main domain covers its
subdomains. Publication dates come from `search_recency_filter` or the `search_*_date_filter`
pair, last-updated dates from the `last_updated_*_filter` pair; all inputs are `MM/DD/YYYY`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from contract.schemas.chat import SearchFilterFields

RECENCY_DAYS = {"hour": 0, "day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class DomainFilter:
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

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
    """`https://www.Example.com/path` → `example.com`: the docs say to give bare domains, users don't."""
    entry = re.sub(r"^[a-z][a-z0-9+.-]*://", "", entry.strip().lower())
    return entry.split("/", 1)[0].removeprefix("www.")


def covers(rule: str, domain: str) -> bool:
    """A main domain covers its subdomains: `example.com` admits `docs.example.com`."""
    domain = domain.lower().removeprefix("www.")
    return domain == rule or domain.endswith("." + rule)


def domain_of(url: str) -> str:
    return normalize_domain(url)


def parse_date_filter(value: str | None) -> datetime.date | None:
    """`MM/DD/YYYY` (leading zeros optional) to a date; the schema has already checked the shape."""
    if value is None:
        return None
    month, day, year = (int(part) for part in value.split("/"))
    return datetime.date(year, month, day)


@dataclass(frozen=True)
class SearchFilters:
    # The mock clock's date: nothing published or updated after it exists yet.
    today: datetime.date
    mode: str
    domains: DomainFilter
    languages: frozenset[str]
    # Inclusive windows; None leaves that side open.
    published_after: datetime.date | None
    published_before: datetime.date | None
    updated_after: datetime.date | None
    updated_before: datetime.date | None

    @classmethod
    def from_request(cls, request: SearchFilterFields, today: datetime.date) -> SearchFilters:
        published_after = parse_date_filter(request.search_after_date_filter)
        published_before = parse_date_filter(request.search_before_date_filter)
        if request.search_recency_filter is not None:
            published_after = today - datetime.timedelta(days=RECENCY_DAYS[request.search_recency_filter])
            published_before = None
        return cls(
            today=today,
            mode=request.search_mode or "web",
            domains=DomainFilter.parse(request.search_domain_filter),
            languages=frozenset(code.lower() for code in request.search_language_filter or ()),
            published_after=published_after,
            published_before=published_before,
            updated_after=parse_date_filter(request.last_updated_after_filter),
            updated_before=parse_date_filter(request.last_updated_before_filter),
        )

    @property
    def dates_published(self) -> bool:
        return self.published_after is not None or self.published_before is not None

    def admits_dates(self, published: datetime.date | None, updated: datetime.date | None) -> bool:
        """A page without a publication date cannot be shown to fall inside a publication window."""
        if (published is not None and published > self.today) or (updated is not None and updated > self.today):
            return False
        if self.dates_published and (
            published is None or not _inside(published, self.published_after, self.published_before)
        ):
            return False
        if self.updated_after is not None or self.updated_before is not None:
            return updated is not None and _inside(updated, self.updated_after, self.updated_before)
        return True

    def published_window(self, today: datetime.date, default_days: int) -> tuple[datetime.date, datetime.date]:
        """The dates a synthesized page may carry: the filter's window, or the last `default_days`."""
        start = self.published_after or today - datetime.timedelta(days=default_days)
        end = min(self.published_before or today, today)
        return start, end

    def updated_window(self, published: datetime.date, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        start = max(published, self.updated_after or published)
        end = min(self.updated_before or today, today)
        return start, end


def _inside(day: datetime.date, start: datetime.date | None, end: datetime.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)
