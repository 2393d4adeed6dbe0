"""Three questions at once with `AsyncPerplexity` and `asyncio.gather`.

Run: python examples/sdk_async.py
"""

from __future__ import annotations

import asyncio
import os

from perplexity import AsyncPerplexity

QUESTIONS = [
    "What is the capital of France?",
    "How far has solid-state battery research come?",
    "What is rate limiting with exponential backoff?",
]


async def ask(client: AsyncPerplexity, question: str) -> str:
    completion = await client.chat.completions.create(model="sonar", messages=[{"role": "user", "content": question}])
    content = completion.choices[0].message.content
    return content if isinstance(content, str) else ""


async def main() -> None:
    async with AsyncPerplexity(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    ) as client:
        answers = await asyncio.gather(*(ask(client, question) for question in QUESTIONS))
    for question, answer in zip(QUESTIONS, answers, strict=True):
        print(f"Q: {question}\nA: {answer[:100]}")
    print(f"answered {len(answers)} questions concurrently")


if __name__ == "__main__":
    asyncio.run(main())
