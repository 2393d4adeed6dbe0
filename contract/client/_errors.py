"""The client's exceptions, one class per failure family, named as the official SDK names them.

```
APIError
 ├── APIStatusError                 the server answered with a 4xx or 5xx status
 │    ├── BadRequestError           400
 │    ├── AuthenticationError       401
 │    ├── PermissionDeniedError     403
 │    ├── NotFoundError             404
 │    ├── ConflictError             409
 │    ├── UnprocessableEntityError  422
 │    ├── RateLimitError            429
 │    └── InternalServerError       >= 500
 ├── APIStreamError                 the stream carried an error event (`event: error` or an envelope)
 ├── APIConnectionError             no usable answer: connect, read or protocol failure
 │    ├── APITimeoutError           a connect, read, write, pool or total timeout
 │    └── IncompleteStreamError     a stream ended or broke before `data: [DONE]`
 └── JobTimeoutError                `wait_for_job` reached its deadline before a terminal state
```

Other statuses (408, 405, 413, ...) raise `APIStatusError` itself. No exception holds the API key:
messages are built from the status and the error envelope, and `request` is an `httpx.Request`,
whose repr shows only the method and URL.
"""

from __future__ import annotations

import json

import httpx

from contract.schemas import ErrorResponse

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IncompleteStreamError",
    "InternalServerError",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class APIError(Exception):
    """Base class of every error the client raises.

    Attributes:
        message: A readable description (never contains the API key).
        request: The request that failed, when there was one.
        body: The decoded response body (JSON, text, or `None`).
    """

    def __init__(self, message: str, request: httpx.Request | None = None, *, body: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status.
        response: The `httpx.Response` (its body already read).
        error: The parsed `{"error": {message, type, code}}` envelope, or `None` when the body is
            not one (an empty 404, an HTML page from the edge).
        request_id: The response's `X-Request-ID`, when present.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")
        self.error: ErrorResponse | None = _envelope(body)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, request_id={self.request_id!r})"


class BadRequestError(APIStatusError):
    """400: the request was invalid (bad model, message order, parameter ranges)."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, malformed, unknown or out of credit."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """404: unknown route or unknown async job."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (retried: it may be transient)."""


class UnprocessableEntityError(APIStatusError):
    """422: declared by the specs; the API sends 400 for validation errors in practice."""


class RateLimitError(APIStatusError):
    """429: a rate limit or the concurrency cap refused the request."""


class InternalServerError(APIStatusError):
    """>= 500: the server failed or is unavailable."""


class APIStreamError(APIError):
    """The server reported an error inside a stream that had started with 200.

    Attributes:
        error: The parsed error envelope, when the event's data is one.
    """

    def __init__(
        self,
        message: str,
        request: httpx.Request | None = None,
        *,
        body: object | None = None,
        error: ErrorResponse | None = None,
    ) -> None:
        super().__init__(message, request, body=body)
        self.error = error


class APIConnectionError(APIError):
    """No usable answer arrived: the connection failed, broke or spoke bad HTTP."""

    def __init__(self, message: str = "Connection error.", request: httpx.Request | None = None) -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout, or the call's total timeout, expired."""

    def __init__(self, message: str = "Request timed out.", request: httpx.Request | None = None) -> None:
        super().__init__(message, request)


class IncompleteStreamError(APIConnectionError):
    """A stream ended, or its connection broke, before `data: [DONE]`: the answer is truncated.

    Attributes:
        chunks: How many chunks had been received.
    """

    def __init__(self, message: str, request: httpx.Request | None = None, *, chunks: int = 0) -> None:
        super().__init__(message, request)
        self.chunks = chunks


class JobTimeoutError(APIError):
    """`wait_for_job` reached its deadline while the job was still `CREATED` or `IN_PROGRESS`.

    Attributes:
        job_id: The job's id.
        last_status: The status the last poll saw.
    """

    def __init__(self, job_id: str, last_status: str, timeout: float) -> None:
        super().__init__(f"Async job {job_id!r} still {last_status} after {timeout:g} s.")
        self.job_id = job_id
        self.last_status = last_status


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error response whose body has been read."""
    body = decode_body(response)
    detail = "" if body is None or body == "" else f" - {json.dumps(body) if not isinstance(body, str) else body}"
    message = f"Error code: {response.status_code}{detail}"
    cls = InternalServerError if response.status_code >= 500 else _STATUS_CLASSES.get(response.status_code)
    return (cls or APIStatusError)(message, response=response, body=body)


def decode_body(response: httpx.Response) -> object | None:
    if not response.content:
        return None
    try:
        parsed: object = json.loads(response.content)
    except ValueError:
        return response.text
    return parsed


def _envelope(body: object | None) -> ErrorResponse | None:
    try:
        return ErrorResponse.model_validate(body)
    except ValueError:
        return None
