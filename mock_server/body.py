"""Reading a JSON request body with the checks the API applies before validation.

Too large → 413 `payload_too_large`; not JSON by its Content-Type → 415; unparsable → 400.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from mock_server.errors import MockAPIError, invalid_request


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    # Clients that send no Content-Type at all still get their JSON parsed.
    return media in {"", "application/json"} or media.endswith("+json")


async def read_json(request: Request, limit: int) -> Any:
    if not _is_json(request.headers.get("content-type", "")):
        raise MockAPIError(415, "unsupported_media_type", "Content-Type must be application/json.")
    too_large = MockAPIError(413, "payload_too_large", f"Request body exceeds the {limit}-byte limit.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise invalid_request("Request body is empty; expected a JSON object.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_request(f"Request body is not valid JSON: {exc}.") from None
