"""A `sonar-deep-research` async job: create it, then poll with a small backoff until it ends.

Run: python examples/sdk_async_job.py (against `./scripts/serve --time-scale 0` it completes at once;
at time scale 1 a job takes about two minutes)
"""

from __future__ import annotations

import os
import sys
import time

from perplexity import Perplexity


def main() -> int:
    client = Perplexity(
        api_key=os.environ.get("PERPLEXITY_API_KEY", "pplx-local"),
        base_url=os.environ.get("PERPLEXITY_BASE_URL", "http://127.0.0.1:8000"),
    )
    job = client.async_.chat.completions.create(
        request={
            "model": "sonar-deep-research",
            "messages": [{"role": "user", "content": "How far has solid-state battery research come?"}],
        }
    )
    print(f"job {job.id}: {job.status}")
    delay = 0.5
    while job.status not in ("COMPLETED", "FAILED"):
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
        job = client.async_.chat.completions.get(job.id)
        print(f"job {job.id}: {job.status}")
    if job.status == "FAILED" or job.response is None:
        print(f"failed: {job.error_message}", file=sys.stderr)
        return 1
    content = job.response.choices[0].message.content
    print(f"answer: {content[:150] if isinstance(content, str) else ''}")
    print(f"citations: {len(job.response.citations or [])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
