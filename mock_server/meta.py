"""Routes about the mock itself: its OpenAPI document and a health check. No key needed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from contract.spec import load_spec
from mock_server.state import mock_state


async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(load_spec())


async def health(request: Request) -> JSONResponse:
    state = mock_state(request)
    return JSONResponse({"status": "ok", "fixtures": len(state.fixtures.fixtures), "open_streams": state.open_streams})
