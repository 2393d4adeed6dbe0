"""A fake clock for the client (sleeps advance it) and canned API bodies."""

from __future__ import annotations

import heapq
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

FAKE_KEY = "pplx-SECRET-canary-4f2a9"  # recognisable: must never show up in a message, log or repr
MESSAGES = [{"role": "user", "content": "Hi"}]


class FakeTime:
    """Monotonic seconds that only move when someone sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, anyio.Event]] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        """For one task at a time: time jumps by the wait."""
        self.sleep(seconds)
        await anyio.sleep(0)

    async def asleep_scheduled(self, seconds: float) -> None:
        """For `run_all`: wait until the scheduler reaches this sleeper's wake-up time."""
        self.sleeps.append(seconds)
        woken = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + seconds, len(self.sleeps), woken))
        await woken.wait()

    async def run_all(self, jobs: list[Callable[[], Awaitable[object]]]) -> None:
        """Run jobs concurrently on simulated time: time moves only when every unfinished job sleeps,
        to the earliest wake-up, so requests reach the server in the order and at the times planned."""
        done = 0

        async def run(job: Callable[[], Awaitable[object]]) -> None:
            nonlocal done
            try:
                await job()
            finally:
                done += 1

        async with anyio.create_task_group() as group:
            for job in jobs:
                group.start_soon(run, job)
            while True:
                while len(self._sleepers) + done < len(jobs):
                    await anyio.sleep(0)
                if done == len(jobs):
                    return
                when, _, woken = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                woken.set()
                await anyio.sleep(0)


def completion(text: str = "Hello") -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "c1",
        "model": "sonar",
        "created": 1,
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message, "delta": message}],
        "citations": ["https://example.com"],
    }


def sse(*payloads: object) -> bytes:
    return b"".join(f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads)


def envelope(status: int, kind: str = "error", message: str = "nope") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}
