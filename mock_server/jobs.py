"""Async deep-research jobs: a store whose jobs move through their lifecycle by the clock.

`CREATED` → `IN_PROGRESS` → `COMPLETED` | `FAILED`. A job's state is computed from the mock's
clock on every read, so nothing runs in the background and tests reach every state by advancing
the clock. Jobs belong to the API key that created them, in the `X-Mock-Namespace` namespace it
was created in, and vanish after the documented 7 days.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from typing import Any

from mock_server.completion import Completion

TTL_SECONDS = 7 * 24 * 3600
# How much longer (or shorter) research runs for each `reasoning_effort` than for `medium`.
EFFORT_FACTOR = {"minimal": 0.25, "low": 0.5, "medium": 1.0, "high": 2.0}
DEFAULT_FAILURE = "The research job failed: the model did not finish within the time limit."


class InvalidPageToken(ValueError):
    pass


@dataclass
class Job:
    owner: str
    model: str
    created_at: float
    queued_for: float
    runs_for: float
    completion: Completion | None
    failure: str | None = None
    namespace: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _response: dict[str, Any] | None = None

    @property
    def started_at(self) -> float:
        return self.created_at + self.queued_for

    @property
    def finished_at(self) -> float:
        return self.started_at + self.runs_for

    def status(self, now: float) -> str:
        if now < self.started_at:
            return "CREATED"
        if now < self.finished_at:
            return "IN_PROGRESS"
        return "FAILED" if self.failure is not None else "COMPLETED"

    def summary(self, now: float, *, created: bool = False) -> dict[str, Any]:
        # A job is always CREATED in the answer to its own creation, however short its queue.
        status = "CREATED" if created else self.status(now)
        started = status != "CREATED"
        return {
            "id": self.id,
            "model": self.model,
            "created_at": int(self.created_at),
            "status": status,
            "started_at": int(self.started_at) if started else None,
            "completed_at": int(self.finished_at) if status == "COMPLETED" else None,
            "failed_at": int(self.finished_at) if status == "FAILED" else None,
        }

    def view(self, now: float, *, created: bool = False) -> dict[str, Any]:
        view = self.summary(now, created=created)
        view["response"] = self._render_response() if view["status"] == "COMPLETED" else None
        view["error_message"] = self.failure if view["status"] == "FAILED" else None
        return view

    def _render_response(self) -> dict[str, Any]:
        if self._response is None:
            assert self.completion is not None
            self._response = self.completion.body(int(self.finished_at))
        return self._response


@dataclass
class JobStore:
    jobs: dict[str, Job] = field(default_factory=dict)
    # (namespace, owner, idempotency key) → job id.
    idempotency: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def add(self, job: Job, idempotency_key: str | None) -> Job:
        if idempotency_key is not None:
            self.idempotency[(job.namespace, job.owner, idempotency_key)] = job.id
        self.jobs[job.id] = job
        return job

    def by_idempotency_key(self, owner: str, key: str, now: float, *, namespace: str = "") -> Job | None:
        job_id = self.idempotency.get((namespace, owner, key))
        return self.get(owner, job_id, now, namespace=namespace) if job_id is not None else None

    def get(self, owner: str, job_id: str, now: float, *, namespace: str = "") -> Job | None:
        self.expire(now)
        job = self.jobs.get(job_id)
        # Another key's (or namespace's) job is indistinguishable from a missing one.
        return job if job is not None and (job.namespace, job.owner) == (namespace, owner) else None

    def page(
        self, owner: str, now: float, limit: int, token: str | None, *, namespace: str = ""
    ) -> tuple[list[Job], str | None]:
        self.expire(now)
        mine = sorted(
            (job for job in self.jobs.values() if (job.namespace, job.owner) == (namespace, owner)),
            key=lambda j: (-j.created_at, j.id),
        )
        start = 0
        if token is not None:
            position = _decode_token(token)
            start = next((i for i, job in enumerate(mine) if (-job.created_at, job.id) > position), len(mine))
        chosen = mine[start : start + limit]
        more = start + limit < len(mine)
        return chosen, _encode_token(chosen[-1]) if more and chosen else None

    def expire(self, now: float) -> None:
        expired = [job_id for job_id, job in self.jobs.items() if now >= job.created_at + TTL_SECONDS]
        for job_id in expired:
            del self.jobs[job_id]
        if expired:
            self.idempotency = {k: v for k, v in self.idempotency.items() if v in self.jobs}

    def clear(self) -> None:
        self.jobs.clear()
        self.idempotency.clear()

    def reset(self, namespace: str | None) -> None:
        if namespace is None:
            self.clear()
            return
        self.jobs = {job_id: job for job_id, job in self.jobs.items() if job.namespace != namespace}
        self.idempotency = {k: v for k, v in self.idempotency.items() if k[0] != namespace}


def _encode_token(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at!r}|{job.id}".encode()).decode()


def _decode_token(token: str) -> tuple[float, str]:
    try:
        created_at, job_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return -float(created_at), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidPageToken(token) from None
