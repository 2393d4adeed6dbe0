"""`usage.cost` reproduces every worked check in the dossier's pricing section."""

from __future__ import annotations

import pytest

from mock_server.catalog import MODELS
from mock_server.pricing import TokenCounts, build_usage, compute_cost
from tests.conftest import SEED2_COST


def test_seed_example_sonar_pro() -> None:
    # SEED2 (2026-05-21): sonar-pro, 27 in / 587 out, low context.
    cost = compute_cost(MODELS["sonar-pro"], TokenCounts(27, 587), "low", pro_search=False)
    assert cost == SEED2_COST


def test_observed_sonar_chunk() -> None:
    # big-AGI#990 (2026-02-22): sonar, 70 in / 107 out, low context.
    cost = compute_cost(MODELS["sonar"], TokenCounts(70, 107), "low", pro_search=False)
    assert (cost["input_tokens_cost"], cost["output_tokens_cost"], cost["request_cost"], cost["total_cost"]) == (
        0.00007,
        0.00011,
        0.005,
        0.00518,
    )


@pytest.mark.parametrize(("size", "total"), [("low", 0.0057), ("medium", 0.0087), ("high", 0.0127)])
def test_request_fee_follows_search_context_size(size: str, total: float) -> None:
    # The pricing page's sonar example: 500 in / 200 out.
    assert compute_cost(MODELS["sonar"], TokenCounts(500, 200), size, pro_search=False)["total_cost"] == total


@pytest.mark.parametrize(("size", "fee"), [("low", 0.014), ("medium", 0.018), ("high", 0.022)])
def test_pro_search_fees(size: str, fee: float) -> None:
    assert compute_cost(MODELS["sonar-pro"], TokenCounts(1, 1), size, pro_search=True)["request_cost"] == fee


def test_deep_research_low_example() -> None:
    counts = TokenCounts(33, 7163, citation_tokens=20016, reasoning_tokens=73997, num_search_queries=18)
    cost = compute_cost(MODELS["sonar-deep-research"], counts, "low", pro_search=False)
    assert cost["total_cost"] == round(0.409393, 5)
    assert cost["request_cost"] is None
    assert (cost["citation_tokens_cost"], cost["reasoning_tokens_cost"], cost["search_queries_cost"]) == (
        0.04003,
        0.22199,
        0.09,
    )


def test_total_tokens_excludes_citation_and_reasoning_tokens() -> None:
    counts = TokenCounts(10, 20, citation_tokens=500, reasoning_tokens=900, num_search_queries=3)
    usage = build_usage(MODELS["sonar-deep-research"], counts, "low", pro_search=False)
    assert usage["total_tokens"] == 30
    assert usage["search_context_size"] == "low"
