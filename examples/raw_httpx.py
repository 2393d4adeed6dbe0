"""POST /chat/completions with plain httpx, retrying a 429 after the server's `Retry-After`.

Run: python examples/raw_httpx.py
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import httpx

MAX_ATTEMPTS = 4


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before retrying: `retry-after-ms`, else `Retry-After`, else exponential."""
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(response.headers[header]) / scale
        except (KeyError, ValueError):
            continue
    return 0.5 * 2.0**attempt


def chat(client: httpx.Client, body: dict[str, Any], first_headers: dict[str, str] | None = None) -> httpx.Response:
    """The answer, after up to MAX_ATTEMPTS tries; `first_headers` go with the first try only."""
    for attempt in range(MAX_ATTEMPTS):
        response = client.post("/chat/completions", json=body, headers=first_headers if attempt == 0 else None)
        if response.status_code != 429 or attempt == MAX_ATTEMPTS - 1:
            return response
        delay = retry_delay(response, attempt)
        print(f"429, retrying in {delay:.1f}s")
        time.sleep(delay)
    raise AssertionError("unreachable")


def main() -> int:
    key = os.environ.get("PERPLEXITY_API_KEY", "pplx-local")
    base_url = os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        body = {"model": "sonar", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
        # The mock's X-Mock-Fault header makes the first try a 429, to show the retry (the real API ignores it).
        response = chat(client, body, first_headers={"X-Mock-Fault": "status=429;retry-after-ms=200"})
    if response.is_error:
        print(f"error {response.status_code}: {response.text[:200]}", file=sys.stderr)
        return 1
    answer = response.json()
    print(f"answer: {answer['choices'][0]['message']['content'][:150]}")
    print(f"request id: {response.headers.get('x-request-id')}, cost: ${answer['usage']['cost']['total_cost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
