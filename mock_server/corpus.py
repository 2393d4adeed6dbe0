"""The search corpus: curated web pages that the Search API and chat answers search.

YAML files under `<fixtures>/corpus/`, each a list of documents:

    documents:
      - url: https://en.wikipedia.org/wiki/OpenAI_o1
        title: OpenAI o1 - Wikipedia
        date: 2024-09-12          # publication date, or null
        last_updated: 2026-03-31
        language: en              # ISO 639-1
        country: US               # optional, ISO 3166-1 alpha-2
        mode: web                 # web | academic | sec
        content: |
          Paragraphs separated by blank lines.

Every file is validated at start-up; a broken one stops start-up with its path and field named.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mock_server.fixtures import CORPUS_DIRECTORY, FixtureError, first_error, one_line
from mock_server.search_filters import domain_of

# Chinese and Japanese are written without spaces: each of their characters counts as a word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


class CorpusDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^/\s]+")
    title: str = Field(min_length=1)
    date: datetime.date | None
    last_updated: datetime.date
    language: str = Field(pattern=r"^[a-z]{2}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    mode: Literal["web", "academic", "sec"] = "web"
    content: str = Field(min_length=1)

    @model_validator(mode="after")
    def _updated_after_published(self) -> CorpusDocument:
        if self.date is not None and self.last_updated < self.date:
            raise ValueError("last_updated is earlier than date")
        return self


class CorpusFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[CorpusDocument] = Field(min_length=1)


def words(text: str) -> list[str]:
    """Lower-case words for matching; accented letters are kept."""
    return [word.lower() for word in _WORD.findall(text)]


@dataclass(frozen=True)
class Page:
    """A corpus document ready to be ranked: its paragraphs and word counts."""

    document: CorpusDocument
    # Worked out once: every search filters every page by it.
    domain: str
    paragraphs: tuple[str, ...]
    term_counts: Counter[str]
    length: int

    @classmethod
    def from_document(cls, document: CorpusDocument) -> Page:
        paragraphs = tuple(part.strip() for part in re.split(r"\n\s*\n", document.content) if part.strip())
        # The title counts twice: a query matching the title is what a ranking engine favours.
        terms = words(document.title) * 2 + words(document.content)
        return cls(document, domain_of(document.url), paragraphs, Counter(terms), len(terms))


@dataclass
class Corpus:
    pages: list[Page] = field(default_factory=list)
    document_frequency: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for page in self.pages:
            self.document_frequency.update(page.term_counts.keys())
        self.average_length = sum(page.length for page in self.pages) / len(self.pages) if self.pages else 0.0

    def idf(self, term: str) -> float:
        frequency = self.document_frequency.get(term, 0)
        return math.log(1 + (len(self.pages) - frequency + 0.5) / (frequency + 0.5))

    def __len__(self) -> int:
        return len(self.pages)


def load_corpus(fixtures_dir: Path) -> Corpus:
    """The documents under `<fixtures>/corpus/`; an empty corpus when there is none."""
    directory = fixtures_dir / CORPUS_DIRECTORY
    if not directory.is_dir():
        return Corpus()
    pages: list[Page] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        for index, document in enumerate(_load_file(path).documents):
            if document.url in seen:
                raise FixtureError(f"{path}: documents.{index}.url: {document.url} is also in {seen[document.url]}")
            seen[document.url] = path
            pages.append(Page.from_document(document))
    return Corpus(pages)


def _load_file(path: Path) -> CorpusFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: cannot be read ({exc})") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # Besides YAML's own errors: an integer of more digits than `int()` accepts, and nesting
        # deeper than the parser's recursion.
        raise FixtureError(f"{path}: not valid YAML ({one_line(exc)})") from None
    try:
        return CorpusFile.model_validate(raw)
    except ValidationError as exc:
        raise FixtureError(f"{path}: {first_error(exc)}") from None
