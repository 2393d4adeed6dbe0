"""A streamed chat completion: print each delta as it arrives, then the final usage.

Run: python examples/sdk_streaming.py (start the mock with --time-scale 1 to see realistic pacing)
"""

from __future__ import annotations

import os

from perplexity import Perplexity


def main() -> None:
    client = Perplexity(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    )
    stream = client.chat.completions.create(
        model="sonar", messages=[{"role": "user", "content": "What is the capital of France?"}], stream=True
    )
    usage = None
    for chunk in stream:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if isinstance(delta, str):
            print(delta, end="", flush=True)
        # Every chunk carries the usage so far; the last one has the totals.
        if chunk.usage is not None:
            usage = chunk.usage
    print()
    if usage is not None:
        print(f"usage: {usage.prompt_tokens} in, {usage.completion_tokens} out, ${usage.cost.total_cost}")


if __name__ == "__main__":
    main()
