"""Secrets never reach disk: key-shaped strings are scrubbed from recordings and refused in fixtures.

Key-shaped means a Perplexity key (`pplx-` and at least 8 letters or digits), an OpenAI-style
key (`sk-…`) or a bearer token (`Bearer …`), anywhere in a string. Credential headers
(`Authorization`, cookies, `X-Api-Key`…) are replaced whole, whatever their value.
"""

from __future__ import annotations

import re
from typing import Any

SCRUBBED = "[scrubbed]"
KEY_SHAPED = re.compile(
    r"(?<![A-Za-z0-9])pplx-[A-Za-z0-9]{8,}"
    r"|(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{8,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*"
)
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"})


def scrub_text(text: str) -> str:
    return KEY_SHAPED.sub(SCRUBBED, text)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with every key-shaped string replaced, in keys and values."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub_text(str(key)): scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def scrub_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: SCRUBBED if name.lower() in CREDENTIAL_HEADERS else scrub_text(value) for name, value in headers.items()
    }


def find_secret(text: str) -> str | None:
    """Where the first key-shaped string in `text` is (`line N`), without repeating it; None when clean."""
    found = KEY_SHAPED.search(text)
    if found is None:
        return None
    return f"line {text.count(chr(10), 0, found.start()) + 1}"
