"""The Search API with the official SDK: ranked pages from two domains, at most five.

Run: python examples/sdk_search.py
"""

from __future__ import annotations

import os

from perplexity import Perplexity


def main() -> None:
    client = Perplexity(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    )
    search = client.search.create(
        query="large language model inference throughput",
        search_domain_filter=["wikipedia.org", "arxiv.org"],
        max_results=5,
    )
    for result in search.results:
        print(f"- {result.title} <{result.url}>")
    print(f"{len(search.results)} results")


if __name__ == "__main__":
    main()
