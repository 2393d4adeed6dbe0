"""The Sonar models: limits, prices and the default pacing the mock simulates for each.

Prices are USD from the pricing page (2026): tokens per million, request fees per thousand requests
chosen by `web_search_options.search_context_size`. Context and output limits from the model
cards. Timing is the mock's own realistic approximation (no published figure) and is configurable.
"""

from __future__ import annotations

from dataclasses import dataclass

SearchContextFees = dict[str, float]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    context_window: int
    max_output_tokens: int
    input_price: float
    output_price: float
    request_fees: SearchContextFees | None
    pro_search_fees: SearchContextFees | None = None
    citation_price: float | None = None
    reasoning_price: float | None = None
    search_query_price: float | None = None
    time_to_first_token: float = 1.0
    tokens_per_second: float = 60.0
    answer_tokens: tuple[int, int] = (150, 320)
    reasoning_prefix: bool = False
    accepts_images: bool = True
    supports_regex: bool = False
    supports_pro_search: bool = False
    # Deep research does not expose its reasoning: concise streams show a bare reasoning stage.
    exposes_reasoning_steps: bool = True


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "sonar",
            context_window=128_000,
            max_output_tokens=128_000,
            input_price=1,
            output_price=1,
            request_fees={"low": 5, "medium": 8, "high": 12},
            time_to_first_token=0.8,
            tokens_per_second=90,
            answer_tokens=(120, 260),
            supports_regex=True,
        ),
        ModelSpec(
            "sonar-pro",
            context_window=200_000,
            max_output_tokens=8_000,
            input_price=3,
            output_price=15,
            request_fees={"low": 6, "medium": 10, "high": 14},
            pro_search_fees={"low": 14, "medium": 18, "high": 22},
            time_to_first_token=1.5,
            tokens_per_second=60,
            answer_tokens=(250, 520),
            supports_pro_search=True,
        ),
        ModelSpec(
            "sonar-reasoning-pro",
            context_window=128_000,
            max_output_tokens=128_000,
            input_price=2,
            output_price=8,
            request_fees={"low": 6, "medium": 10, "high": 14},
            time_to_first_token=2.0,
            tokens_per_second=55,
            answer_tokens=(220, 420),
            reasoning_prefix=True,
        ),
        ModelSpec(
            "sonar-deep-research",
            context_window=128_000,
            max_output_tokens=128_000,
            input_price=2,
            output_price=8,
            request_fees=None,
            citation_price=2,
            reasoning_price=3,
            search_query_price=5,
            time_to_first_token=20.0,
            tokens_per_second=35,
            answer_tokens=(700, 1300),
            accepts_images=False,
            exposes_reasoning_steps=False,
        ),
    )
}
