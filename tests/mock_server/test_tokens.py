from __future__ import annotations

import pytest

from mock_server.tokens import count_tokens, tokenize

TEXTS = [
    "",
    "Hello, world!",
    "  leading and trailing  ",
    "<think>\nreasoning\n</think>\nanswer",
    'naïve café déjà-vu 2026-05-21 snake_case {"a":1}',
    "LLM inference throughput on accelerators: memory bandwidth, KV-cache size.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_pieces_concatenate_back_to_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text
    assert count_tokens(text) == len(tokenize(text))


def test_about_four_characters_a_token_for_english() -> None:
    text = "The quick brown fox jumps over the lazy dog while the farmer watches from the porch. " * 10
    assert 3.0 <= len(text) / count_tokens(text) <= 6.0


def test_long_words_and_numbers_are_split() -> None:
    assert tokenize("internationalization") == ["inter", "natio", "naliz", "ation"]
    assert tokenize("1234567") == ["123", "456", "7"]
