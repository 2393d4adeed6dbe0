"""`usage.cost`: token prices plus the request fee, as the pricing page states the formula.

Each field is rounded to 5 decimal places and the total is rounded from the unrounded sum, which
reproduces every 2026 response we have (e.g. sonar-pro, 27 in / 587 out, low context:
8e-05 + 0.00881 + 0.006 = 0.01489).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.catalog import ModelSpec

DECIMALS = 5
# The first two cost parts, in the order they are summed; only the second grows with the output.
_GROWING_PARTS = ("input_tokens_cost", "output_tokens_cost")


@dataclass(frozen=True)
class TokenCounts:
    prompt_tokens: int
    completion_tokens: int
    citation_tokens: int | None = None
    reasoning_tokens: int | None = None
    num_search_queries: int | None = None


def request_fee(spec: ModelSpec, search_context_size: str, pro_search: bool) -> float | None:
    fees = spec.pro_search_fees if pro_search and spec.pro_search_fees else spec.request_fees
    if fees is None:
        return None
    return fees[search_context_size] / 1000


def _cost_parts(
    spec: ModelSpec, counts: TokenCounts, search_context_size: str, pro_search: bool
) -> dict[str, float | None]:
    return {
        "input_tokens_cost": counts.prompt_tokens * spec.input_price / 1e6,
        "output_tokens_cost": output_cost(spec, counts.completion_tokens),
        "citation_tokens_cost": _per_million(counts.citation_tokens, spec.citation_price),
        "reasoning_tokens_cost": _per_million(counts.reasoning_tokens, spec.reasoning_price),
        "request_cost": request_fee(spec, search_context_size, pro_search),
        "search_queries_cost": _per_thousand(counts.num_search_queries, spec.search_query_price),
    }


def output_cost(spec: ModelSpec, completion_tokens: int) -> float:
    return completion_tokens * spec.output_price / 1e6


def compute_cost(spec: ModelSpec, counts: TokenCounts, search_context_size: str, pro_search: bool) -> dict[str, Any]:
    parts = _cost_parts(spec, counts, search_context_size, pro_search)
    total = sum(value for value in parts.values() if value is not None)
    rounded = {key: None if value is None else round(value, DECIMALS) for key, value in parts.items()}
    # Key order as in the 2026 captures.
    return {
        "input_tokens_cost": rounded["input_tokens_cost"],
        "output_tokens_cost": rounded["output_tokens_cost"],
        "total_cost": round(total, DECIMALS),
        "citation_tokens_cost": rounded["citation_tokens_cost"],
        "reasoning_tokens_cost": rounded["reasoning_tokens_cost"],
        "request_cost": rounded["request_cost"],
        "search_queries_cost": rounded["search_queries_cost"],
    }


def growing_costs(
    spec: ModelSpec, counts: TokenCounts, search_context_size: str, pro_search: bool
) -> Callable[[int], tuple[float, float]]:
    """`(output_tokens_cost, total_cost)` of `compute_cost` for `counts` with other completion tokens.

    A stream bills a growing count on every chunk; only these two costs change with it, so the
    other parts are computed once. The total is summed in the same order as `compute_cost` sums
    it, so it rounds to the very same value.
    """
    parts = _cost_parts(spec, counts, search_context_size, pro_search)
    others = [value for name, value in parts.items() if name not in _GROWING_PARTS and value is not None]
    first = parts["input_tokens_cost"]
    assert first is not None

    def costs(completion_tokens: int) -> tuple[float, float]:
        output = output_cost(spec, completion_tokens)
        return round(output, DECIMALS), round(sum([first, output, *others]), DECIMALS)

    return costs


def build_usage(spec: ModelSpec, counts: TokenCounts, search_context_size: str, pro_search: bool) -> dict[str, Any]:
    return {
        "completion_tokens": counts.completion_tokens,
        "cost": compute_cost(spec, counts, search_context_size, pro_search),
        "prompt_tokens": counts.prompt_tokens,
        # Citation and reasoning tokens are billed but not part of the total (SEED2: 27 + 587 = 614).
        "total_tokens": counts.prompt_tokens + counts.completion_tokens,
        "citation_tokens": counts.citation_tokens,
        "num_search_queries": counts.num_search_queries,
        "reasoning_tokens": counts.reasoning_tokens,
        "search_context_size": search_context_size,
    }


def _per_million(tokens: int | None, price: float | None) -> float | None:
    return None if tokens is None or price is None else tokens * price / 1e6


def _per_thousand(count: int | None, price: float | None) -> float | None:
    return None if count is None or price is None else count * price / 1000
