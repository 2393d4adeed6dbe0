"""The reference client for the Perplexity (Sonar) API: sync and async, on httpx.

It is the caller's half of the contract (auth, retries, pacing, SSE framing, error mapping) and
shares nothing with the mock but the models in `contract.schemas`.
"""

from contract.client._async_client import AsyncClient
from contract.client._client import Client
from contract.client._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteStreamError,
    InternalServerError,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from contract.client._limits import RL_V3, Limit, RateLimiter, limits_for_tier
from contract.client._retry import RetryPolicy, retry_delay, should_retry
from contract.client._sse import ChunkReader, ServerSentEvent, SSEDecoder
from contract.client._stream import AsyncChatStream, ChatStream, StreamAnswer

__all__ = [
    "RL_V3",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatStream",
    "ChunkReader",
    "Client",
    "ConflictError",
    "IncompleteStreamError",
    "InternalServerError",
    "JobTimeoutError",
    "Limit",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamAnswer",
    "UnprocessableEntityError",
    "limits_for_tier",
    "retry_delay",
    "should_retry",
]
