"""Reading a JSON request body with the checks the API applies before validation.

Too large → 413 `payload_too_large`; not JSON by its Content-Type → 415; unparsable → 400.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from mock_server.errors import MockAPIError, invalid_request

# The journal parses each body it copies (to note the model) and leaves `(raw bytes, parsed)` in
# the request's state under this key, so the handler does not parse the same bytes again.
PARSED_BODY_STATE_KEY = "pplx_mock_parsed_body"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    # Clients that send no Content-Type at all still get their JSON parsed.
    return media in {"", "application/json"} or media.endswith("+json")


async def read_json(request: Request, limit: int) -> Any:
    if not _is_json(request.headers.get("content-type", "")):
        raise MockAPIError(415, "unsupported_media_type", "Content-Type must be application/json.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise invalid_request("Request body is empty; expected a JSON object.")
    parsed = request.scope.get("state", {}).get(PARSED_BODY_STATE_KEY)
    if parsed is not None and parsed[0] == raw:
        return parsed[1]
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_request(f"Request body is not valid JSON: {exc}.") from None


def _too_large(limit: int) -> MockAPIError:
    return MockAPIError(413, "payload_too_large", f"Request body exceeds the {limit}-byte limit.")
