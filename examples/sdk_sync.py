"""A chat completion with the official `perplexity` SDK: the answer, its citations and its cost.

Run: python examples/sdk_sync.py (with the mock on PERPLEXITY_BASE_URL, default http://127.0.0.1:8000)
"""

from __future__ import annotations

import os

from perplexity import Perplexity


def main() -> None:
    client = Perplexity(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    )
    completion = client.chat.completions.create(
        model="sonar", messages=[{"role": "user", "content": "What is the capital of France?"}]
    )
    message = completion.choices[0].message
    print(f"answer: {message.content if isinstance(message.content, str) else ''}"[:200])
    for number, url in enumerate(completion.citations or [], start=1):
        print(f"[{number}] {url}")
    if completion.usage is not None:
        print(f"cost: ${completion.usage.cost.total_cost}")


if __name__ == "__main__":
    main()
