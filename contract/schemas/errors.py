"""The error envelope every observed Perplexity error body uses: `{"error": {message, type, code}}`.

`code` is the HTTP status as an integer (unlike OpenAI's string codes).
"""

from __future__ import annotations

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    error: ErrorDetail
