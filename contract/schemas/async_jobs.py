"""Async chat completions (deep research jobs): create body, job object, list page.

From the 2026 docs fragments (`AsyncApiChatCompletionsRequest`, `...Response`, `...ResponseSummary`)
and the official SDK's types.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from contract.schemas.chat import ChatCompletion, ChatCompletionRequest

JobStatus = Literal["CREATED", "IN_PROGRESS", "COMPLETED", "FAILED"]
ASYNC_MODELS = ("sonar-deep-research",)


class DeepResearchRequest(ChatCompletionRequest):
    """The chat request an async job runs: only `sonar-deep-research` is accepted (docs)."""

    model: Annotated[str, WithJsonSchema({"type": "string", "enum": list(ASYNC_MODELS)})]


class AsyncChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    request: DeepResearchRequest
    idempotency_key: str | None = None


class AsyncChatCompletionSummary(BaseModel):
    id: str
    model: str
    created_at: int
    status: JobStatus
    started_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None


class AsyncChatCompletionJob(AsyncChatCompletionSummary):
    response: ChatCompletion | None = None
    error_message: str | None = None


class AsyncChatCompletionList(BaseModel):
    requests: list[AsyncChatCompletionSummary]
    next_token: str | None = None


class AsyncChatCompletionListQuery(BaseModel):
    """Query parameters of the list operation (documented in the legacy 3.0.2 page; SDKs send none)."""

    limit: int = Field(default=20, ge=1, le=100)
    next_token: str | None = None
