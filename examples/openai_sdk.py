"""The `openai` SDK pointed at Perplexity: swap `base_url`, pass Perplexity's own parameters with
`extra_body`, and read its own response fields (`citations`, `usage.cost`) from `model_extra`.

Run: python examples/openai_sdk.py
"""

from __future__ import annotations

import os

from openai import OpenAI


def main() -> None:
    # No /v1 suffix: Perplexity serves /chat/completions at the root.
    client = OpenAI(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    )
    completion = client.chat.completions.create(
        model="sonar-pro",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        extra_body={"search_recency_filter": "month"},
    )
    print(f"answer: {completion.choices[0].message.content or ''}"[:200])
    extra = completion.model_extra or {}
    citations: list[str] = extra.get("citations") or []
    for number, url in enumerate(citations, start=1):
        print(f"[{number}] {url}")
    print(f"citations: {len(citations)}")


if __name__ == "__main__":
    main()
