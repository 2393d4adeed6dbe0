"""What a request to the real API costs, estimated before it is sent (USD, pricing page 2026).

The contract suite's own copy of the price table: `contract` does not import the mock, and this
is only used to plan and cap a live run (`--dry-run`, `--max-cost`), never to check `usage.cost`.
An estimate is an upper bound: the prompt at 1 token per 4 characters of the request body, the
whole `max_tokens` (or `DEFAULT_OUTPUT_TOKENS`) as output, the request fee at the requested
search context size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Price:
    # Per million tokens.
    input: float
    output: float
    # Per thousand requests, by `web_search_options.search_context_size`.
    request_fees: dict[str, float]


CHAT_PRICES: dict[str, Price] = {
    "sonar": Price(1, 1, {"low": 5, "medium": 8, "high": 12}),
    "sonar-pro": Price(3, 15, {"low": 6, "medium": 10, "high": 14}),
    "sonar-reasoning-pro": Price(2, 8, {"low": 6, "medium": 10, "high": 14}),
}
# Deep research: tokens at 2 / 8, citations 2 and reasoning 3 per million, searches 5 per thousand;
# a run uses tens of searches and hundreds of thousands of tokens. A flat, deliberately high figure.
DEEP_RESEARCH_ESTIMATE = 1.0
# POST /search: per request, no token charge.
SEARCH_PRICE = 5 / 1000
# Output tokens assumed when a request sets no `max_tokens`.
DEFAULT_OUTPUT_TOKENS = 1000
CHARS_PER_TOKEN = 4
# Paths of the priced operations; anything else (reads of async jobs, errors) is free.
CHAT_PATHS = ("/chat/completions", "/v1/sonar")
ASYNC_PATHS = ("/async/chat/completions", "/v1/async/sonar")
SEARCH_PATHS = ("/search",)


def estimate_cost(method: str, path: str, body: Any) -> float:
    """An upper bound for what `method path` with `body` costs if the API accepts it."""
    if method.upper() != "POST":
        return 0.0
    if path in SEARCH_PATHS:
        return SEARCH_PRICE
    if path in ASYNC_PATHS:
        return DEEP_RESEARCH_ESTIMATE
    if path not in CHAT_PATHS or not isinstance(body, dict):
        return 0.0
    return chat_cost(body)


def chat_cost(body: dict[str, Any]) -> float:
    model = body.get("model")
    if model == "sonar-deep-research":
        return DEEP_RESEARCH_ESTIMATE
    # An unknown model is rejected for free; a known one is priced, the most expensive if unsure.
    price = CHAT_PRICES.get(model) if isinstance(model, str) else None
    if price is None:
        price = CHAT_PRICES["sonar-pro"]
    prompt_tokens = len(json.dumps(body.get("messages", ""), default=str)) / CHARS_PER_TOKEN
    max_tokens = body.get("max_tokens")
    output_tokens = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else DEFAULT_OUTPUT_TOKENS
    options = body.get("web_search_options")
    size = options.get("search_context_size") if isinstance(options, dict) else None
    fee = price.request_fees.get(size if isinstance(size, str) else "low", max(price.request_fees.values()))
    return (prompt_tokens * price.input + output_tokens * price.output) / 1e6 + fee / 1000


def reported_cost(body: Any) -> float | None:
    """`usage.cost.total_cost` of a JSON answer (or of a stream's last chunk), if it has one."""
    usage = body.get("usage") if isinstance(body, dict) else None
    cost = usage.get("cost") if isinstance(usage, dict) else None
    total = cost.get("total_cost") if isinstance(cost, dict) else None
    return float(total) if isinstance(total, int | float) and not isinstance(total, bool) else None
