"""One chat answer, planned once and rendered as a JSON body or as stream chunks.

A `Completion` holds everything the response needs: the text as the token pieces a stream sends,
citations and search results, usage counts. The JSON body and both stream modes render from the
same object, so a streamed answer has the same content, usage and cost as the non-streamed one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from contract.schemas import ChatCompletionRequest
from mock_server.catalog import ModelSpec
from mock_server.corpus import Corpus
from mock_server.ids import new_id
from mock_server.pricing import TokenCounts, build_usage
from mock_server.sources import find_sources
from mock_server.sse import encode_json, encode_string
from mock_server.synthesis import keywords, question_text, synthesize
from mock_server.tokens import count_tokens, tokenize

# A question longer than this is what `search_type: "auto"` classifies as needing Pro Search.
AUTO_PRO_SEARCH_WORDS = 12
# Request fields that change how an answer is delivered or where it stops, not what it says.
DELIVERY_FIELDS = {"stream", "stream_mode", "stream_options", "stop", "max_tokens"}


@dataclass
class Completion:
    model: str
    spec: ModelSpec
    pieces: list[str]
    finish_reason: str
    prompt_tokens: int
    search_context_size: str
    pro_search: bool
    citations: list[str] = field(default_factory=list)
    search_results: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] | None = None
    related_questions: list[str] | None = None
    reasoning_steps: list[dict[str, Any]] = field(default_factory=list)
    citation_tokens: int | None = None
    reasoning_tokens: int | None = None
    num_search_queries: int | None = None
    # A fixture's recorded usage, replayed as it is on the final chunk and in the JSON body.
    recorded_usage: dict[str, Any] | None = None
    id: str = field(default_factory=new_id)
    # The encoded parts of the body that never change, filled on first use (see `encode_body`).
    # `replace` hands copies the same dict: a planned answer's copies differ only in `id` and
    # `model` (answers.py), which are not in it, and a completion is never changed once planned.
    encoded: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def content(self) -> str:
        return "".join(self.pieces)

    @property
    def completion_tokens(self) -> int:
        if self.recorded_usage is not None:
            return int(self.recorded_usage["completion_tokens"])
        return len(self.pieces)

    def usage(self, pieces_sent: int | None = None) -> dict[str, Any]:
        """Cumulative usage once `pieces_sent` pieces are out; the final usage when None."""
        if pieces_sent is None or pieces_sent >= len(self.pieces):
            if self.recorded_usage is not None:
                return self.recorded_usage
            pieces_sent = len(self.pieces)
        counts = self.token_counts(self.tokens_after(pieces_sent))
        return build_usage(self.spec, counts, self.search_context_size, self.pro_search)

    def tokens_after(self, pieces_sent: int) -> int:
        """The completion tokens billed once `pieces_sent` pieces are out."""
        # Spread a recorded count evenly over the pieces so the last chunk lands exactly on it.
        return math.ceil(pieces_sent * self.completion_tokens / len(self.pieces)) if self.pieces else 0

    def token_counts(self, completion_tokens: int) -> TokenCounts:
        return TokenCounts(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=completion_tokens,
            citation_tokens=self.citation_tokens,
            reasoning_tokens=self.reasoning_tokens,
            num_search_queries=self.num_search_queries,
        )

    def body(self, created: int) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "choices": self._choices(), "created": created, "model": self.model}
        return {**body, **self._rest("chat.completion")}

    def encode_body(self, created: int, object_name: str = "chat.completion") -> bytes:
        """`encode_json(self.body(created))` with `object` set to `object_name` (a stream's last chunk is
        the body under its chunk object).

        Encoding kilobytes of search results was most of a cached answer's cost, so the parts that
        never change are encoded once per planned answer and only `id`, `created` and `model` are
        spliced in, in the body's key order.
        """
        choices = self.encoded.get("choices")
        if choices is None:
            choices = self.encoded["choices"] = encode_json(self._choices())
        rest = self.encoded.get(object_name)
        if rest is None:
            # `{"citations":…}` less its opening brace: it closes the body.
            rest = self.encoded[object_name] = encode_json(self._rest(object_name))[1:]
        # One join copies the kilobytes once; a chain of `+` would copy them at every step.
        return b"".join(
            (
                b'{"id":',
                encode_string(self.id),
                b',"choices":',
                choices,
                b',"created":%d,"model":' % created,
                encode_string(self.model),
                b",",
                rest,
            )
        )

    def renamed(self, id: str, model: str) -> Completion:
        """This answer under another `id` and `model`: what a planned answer becomes for each request.

        `dataclasses.replace` would run `__init__` over every field again; a copy of the fields
        costs a fraction of that, and a completion is never changed once planned.
        """
        copy = object.__new__(Completion)
        copy.__dict__.update(self.__dict__, id=id, model=model)
        return copy

    def _choices(self) -> list[dict[str, Any]]:
        return [
            {
                "delta": assistant_message(""),
                "index": 0,
                "message": assistant_message(self.content),
                "finish_reason": self.finish_reason,
            }
        ]

    def _rest(self, object_name: str) -> dict[str, Any]:
        """The body's fields after `model`."""
        rest: dict[str, Any] = {
            "citations": self.citations,
            "object": object_name,
            "search_results": self.search_results,
        }
        if self.images is not None:
            rest["images"] = self.images
        if self.related_questions is not None:
            rest["related_questions"] = self.related_questions
        rest.update({"status": None, "type": None, "usage": self.usage()})
        return rest


def assistant_message(content: str, reasoning_steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # Explicit nulls, as in the 2026 capture of a real response.
    return {
        "content": content,
        "role": "assistant",
        "reasoning_steps": reasoning_steps,
        "tool_call_id": None,
        "tool_calls": None,
    }


def prompt_tokens(request: ChatCompletionRequest) -> int:
    total = 0
    for message in request.messages:
        if isinstance(message.content, str):
            total += count_tokens(message.content)
        elif message.content is not None:
            total += sum(count_tokens(getattr(part, "text", "")) for part in message.content)
    return total


def request_rng(request: ChatCompletionRequest, seed: int) -> random.Random:
    """The answer depends on the request and the seed, never on how it is delivered or cut short."""
    canonical = request.model_dump(mode="json", by_alias=True, exclude=DELIVERY_FIELDS)
    digest = hashlib.sha256(f"{seed}:{json.dumps(canonical, sort_keys=True)}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def search_settings(request: ChatCompletionRequest, spec: ModelSpec) -> tuple[str, bool]:
    options = request.web_search_options
    context = options.search_context_size if options is not None else "low"
    search_type = options.search_type if options is not None else None
    pro = spec.supports_pro_search and (
        search_type == "pro" or (search_type == "auto" and len(question_text(request).split()) > AUTO_PRO_SEARCH_WORDS)
    )
    return context, pro


def limit_pieces(pieces: list[str], request: ChatCompletionRequest, spec: ModelSpec) -> tuple[list[str], str]:
    """Apply `stop` sequences, then `max_tokens` and the model's output cap."""
    text = "".join(pieces)
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or ())
    cut = min((text.find(stop) for stop in stops if stop and stop in text), default=-1)
    if cut >= 0:
        pieces = tokenize(text[:cut])
    limit = min(request.max_tokens or spec.max_output_tokens, spec.max_output_tokens)
    if len(pieces) > limit:
        return pieces[:limit], "length"
    return pieces, "stop"


def synthesize_completion(
    request: ChatCompletionRequest, spec: ModelSpec, seed: int, today: datetime.date, corpus: Corpus
) -> Completion:
    rng = request_rng(request, seed)
    words = keywords(question_text(request))
    found = find_sources(request, corpus, rng, today)
    sources = found.results
    answer = synthesize(request, spec, rng, sources, words, found.facts)
    pieces, finish_reason = limit_pieces(tokenize(answer.content), request, spec)
    context, pro = search_settings(request, spec)
    return Completion(
        model=spec.name,
        spec=spec,
        pieces=pieces,
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens(request),
        search_context_size=context,
        pro_search=pro,
        citations=[str(source["url"]) for source in sources],
        search_results=sources,
        images=answer.images if request.return_images else None,
        related_questions=answer.related_questions if request.return_related_questions else None,
        reasoning_steps=answer.reasoning_steps if sources and spec.exposes_reasoning_steps else [],
        citation_tokens=answer.citation_tokens,
        reasoning_tokens=answer.reasoning_tokens,
        num_search_queries=answer.num_search_queries,
    )


def completion_from_body(body: dict[str, Any], request: ChatCompletionRequest, spec: ModelSpec) -> Completion:
    """Plan a stream from a fixture's recorded JSON body."""
    choice = body["choices"][0]
    content = choice["message"].get("content") or ""
    context, pro = search_settings(request, spec)
    usage = body.get("usage")
    return Completion(
        model=str(body.get("model", spec.name)),
        spec=spec,
        pieces=tokenize(content),
        finish_reason=choice.get("finish_reason") or "stop",
        prompt_tokens=int(usage["prompt_tokens"]) if usage else prompt_tokens(request),
        search_context_size=context,
        pro_search=pro,
        citations=list(body.get("citations") or []),
        search_results=list(body.get("search_results") or []),
        images=body.get("images"),
        related_questions=body.get("related_questions"),
        recorded_usage=usage,
    )
