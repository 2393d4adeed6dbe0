"""Deterministic answers for requests no fixture matches.

The same request and seed always give the same text, sources, images and related questions.
Text is assembled from the question's keywords with `[n]` markers that point into the search
results, so citations, search results and markers always agree.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from contract.schemas import ChatCompletionRequest, ResponseFormatJSONSchema, ResponseFormatRegex
from mock_server import structured
from mock_server.catalog import ModelSpec
from mock_server.errors import invalid_parameter
from mock_server.tokens import count_tokens

STOPWORDS = frozenset(
    "a about above after again against all also an and any are as at be because been before being below between "
    "both but by can could did do does doing down during each explain few for from further give had has have "
    "having how i if in into is it its itself just me more most my no nor not of off on once only or other our "
    "out over own please same she should so some such tell than that the their them then there these they this "
    "those through to too under until up very was we were what when where which while who whom why will with "
    "would you your describe summarize list provide show write latest recent current "
    # Common verbs: they make poor topic phrases.
    "work works working make makes made use uses used get gets affect affects determine determines compare "
    "compares happen happens mean means cause causes need needs help helps find know think want like far come "
    "comes".split()
)
_SENTENCES = (
    "{A} is shaped mostly by {b} and {c}.",
    "Recent sources describe {a} as closely tied to {b}.",
    "Most current write-ups treat {a} and {b} together rather than in isolation.",
    "In practice, changes in {b} tend to show up first in {a}.",
    "Reported figures vary with how {c} is measured, so comparisons need care.",
    "Several analyses stress that {a} should be judged against a clear baseline.",
    "There is broad agreement that {b} matters, but less agreement on how much.",
    "Where {c} is constrained, the effect on {a} is usually the first thing noticed.",
    "Results published over the last year point in the same direction for {b}.",
    "Practitioners suggest getting {a} right before tuning {c}.",
    "The trade-off between {b} and {c} depends on the workload and its constraints.",
    "Documentation and case studies give concrete numbers for {a} in common settings.",
)
_THOUGHTS = (
    "The user is asking about {a}. I should check what the sources say about {b}.",
    "Several results discuss {a}; the most relevant ones also mention {c}.",
    "I will structure the answer around {a}, {b} and {c}, citing the sources.",
)
_QUESTIONS = (
    "What are the main factors behind {a}?",
    "How does {b} compare with {c}?",
    "What are the latest developments in {a}?",
    "How is {b} usually measured?",
    "Which tools help with {c}?",
)
# Deep research work per `reasoning_effort`, in the ranges the pricing page's examples show.
RESEARCH_EFFORT = {
    "minimal": ((2_000, 8_000), (3, 6), (4_000, 9_000)),
    "low": ((40_000, 90_000), (12, 20), (15_000, 25_000)),
    "medium": ((120_000, 320_000), (20, 30), (30_000, 50_000)),
    "high": ((250_000, 400_000), (28, 40), (50_000, 60_000)),
}


@dataclass
class Answer:
    content: str
    reasoning_steps: list[dict[str, Any]] = field(default_factory=list)
    related_questions: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    citation_tokens: int | None = None
    reasoning_tokens: int | None = None
    num_search_queries: int | None = None


def question_text(request: ChatCompletionRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            if isinstance(message.content, str):
                return message.content
            if isinstance(message.content, list):
                return " ".join(getattr(part, "text", "") for part in message.content).strip()
    return ""


def keywords(text: str, limit: int = 6) -> list[str]:
    """Topic phrases of the question: runs of up to three content words, in order, no repeats."""
    phrases: list[str] = []
    for clause in re.split(r"[,.;:!?()\[\]\"]+", text):
        run: list[str] = []
        for word in [*re.findall(r"[A-Za-z0-9][A-Za-z0-9+#'-]*", clause), ""]:
            if word and word.lower() not in STOPWORDS and (len(word) > 2 or word.isupper()):
                run.append(word)
                if len(run) < 3:
                    continue
            if run and " ".join(run).lower() not in (p.lower() for p in phrases):
                phrases.append(" ".join(run))
            run = []
    return phrases[:limit]


def synthesize(
    request: ChatCompletionRequest,
    spec: ModelSpec,
    rng: random.Random,
    sources: Sequence[dict[str, Any]],
    words: Sequence[str],
    facts: Sequence[str | None] = (),
) -> Answer:
    """`facts`: per source, a sentence of that page the answer states first, citing it."""
    terms = list(words)
    for filler in ("the wider context", "recent evidence", "practical experience"):
        if len(terms) >= 3:
            break
        terms.append(filler)
    answer = Answer(content=_body(request, spec, rng, sources, terms, facts))
    if spec.reasoning_prefix:
        thinking = " ".join(_fill(t, terms[i:] + terms[:i]) for i, t in enumerate(_THOUGHTS))
        answer.content = f"<think>\n{thinking}\n</think>\n{answer.content}"
    answer.reasoning_steps = _reasoning_steps(terms, sources)
    if request.return_related_questions:
        answer.related_questions = [_fill(q, terms[i % 3 :] + terms[: i % 3]) for i, q in enumerate(_QUESTIONS)][
            : rng.randint(3, 5)
        ]
    if request.return_images:
        answer.images = _images(request, rng, sources, terms)
    if spec.citation_price is not None:
        # Deep research bills its searches, reasoning and citations separately.
        reasoning, searches, citation = RESEARCH_EFFORT[request.reasoning_effort or "medium"]
        answer.reasoning_tokens = rng.randint(*reasoning)
        answer.num_search_queries = rng.randint(*searches)
        answer.citation_tokens = rng.randint(*citation)
    return answer


def _body(
    request: ChatCompletionRequest,
    spec: ModelSpec,
    rng: random.Random,
    sources: Sequence[dict[str, Any]],
    terms: list[str],
    facts: Sequence[str | None],
) -> str:
    response_format = request.response_format
    if isinstance(response_format, ResponseFormatJSONSchema):
        try:
            value = structured.generate_json(response_format.json_schema.schema_, rng, hints=terms)
        except structured.UnsupportedSchema as exc:
            # A schema that passed the checks but has no value the mock can build (bounds that
            # leave no room for a format, more than an answer holds): the same 400 as the checks'.
            raise invalid_parameter(f"Unsupported json_schema in response_format: {exc}") from None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(response_format, ResponseFormatRegex):
        return structured.generate_from_regex(response_format.regex.regex, rng)
    target = rng.randint(*spec.answer_tokens)
    paragraphs: list[str] = []
    sentences: list[str] = []
    used = 0
    cite = 0
    # What the cited pages say comes first, each with its marker; generic sentences fill the rest.
    quoted = [(index, fact) for index, fact in enumerate(facts) if fact]
    while used < target:
        if quoted:
            index, fact = quoted.pop(0)
            sentence = f"{fact[:-1]} [{index + 1}]{fact[-1]}"
        else:
            order = terms[:]
            rng.shuffle(order)
            sentence = _fill(_SENTENCES[rng.randrange(len(_SENTENCES))], order)
            if sources:
                sentence = sentence[:-1] + f" [{cite % len(sources) + 1}]."
                cite += 1
        sentences.append(sentence)
        used += count_tokens(sentence) + 1
        if len(sentences) == rng.randint(3, 5):
            paragraphs.append(" ".join(sentences))
            sentences = []
    if sentences:
        paragraphs.append(" ".join(sentences))
    if spec.name in {"sonar-pro", "sonar-deep-research"} and len(paragraphs) > 1:
        headings = [f"## {term[:1].upper()}{term[1:]}" for term in terms]
        paragraphs = [f"{headings[i % len(headings)]}\n{p}" for i, p in enumerate(paragraphs)]
    return "\n\n".join(paragraphs)


def _reasoning_steps(terms: list[str], sources: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "thought": f"Searching the web for {terms[0]} and {terms[1]}.",
            "type": "web_search",
            "web_search": {"search_results": list(sources), "search_keywords": [" ".join(terms[:3])]},
        }
    ]


def _images(
    request: ChatCompletionRequest, rng: random.Random, sources: Sequence[dict[str, Any]], terms: list[str]
) -> list[dict[str, Any]]:
    formats = [f.lower().lstrip(".") for f in request.image_format_filter or ()] or ["jpg", "png", "webp"]
    domains = [d.lstrip("-") for d in request.image_domain_filter or () if not d.startswith("-")] or [
        "upload.wikimedia.org",
        "images.unsplash.com",
        "cdn.example-media.com",
    ]
    images = []
    for index in range(request.num_images or 5):
        origin = str(sources[index % len(sources)]["url"]) if sources else f"https://{domains[0]}/"
        extension = formats[index % len(formats)]
        slug = re.sub(r"[^a-z0-9]+", "-", terms[index % len(terms)].lower()).strip("-")
        images.append(
            {
                "image_url": f"https://{domains[index % len(domains)]}/{slug}-{index + 1}.{extension}",
                "origin_url": origin,
                "title": f"{terms[index % len(terms)].capitalize()} ({index + 1})",
                "width": rng.choice((640, 800, 1024, 1280, 1920)),
                "height": rng.choice((360, 480, 600, 720, 1080)),
            }
        )
    return images


def _fill(template: str, terms: list[str]) -> str:
    a, b, c = terms[0], terms[1], terms[2]
    return template.format(a=a, b=b, c=c, A=a[:1].upper() + a[1:])
