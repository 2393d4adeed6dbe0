"""The faults' control plane, loopback-only like the rest of /_mock/ (see control.require_local).

`POST /_mock/faults` `{"default": "<fault spec>" | null, "chaos": {"<fault spec>": rate} | null,
"seed": N | null}` replaces the caller's namespace's default fault and chaos rates (a missing
field means none; `seed` defaults to the `seed` setting) and restarts its random sequence;
`GET /_mock/faults` shows them and how many requests have drawn.

`POST /_mock/scenarios` `{"key": K, "steps": {"3": "<fault spec>"} | [...]}` scripts key K's
calls in the namespace, counting from now (empty steps drop the scenario); `GET
/_mock/scenarios[?key=K]` shows the namespace's scenarios and their call counts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_server.chaos import parse_rates
from mock_server.control import read_control_json, require_local
from mock_server.errors import MockAPIError, invalid_parameter
from mock_server.faults import FaultSpecError, parse_fault
from mock_server.ratelimit import namespace_of
from mock_server.scenarios import parse_steps
from mock_server.state import mock_state

MAX_CONTROL_BODY = 1024 * 1024


async def set_faults(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    body = await _object(request, '{"default": "<fault spec>", "chaos": {"<fault spec>": rate}, "seed": N}')
    default, chaos, seed = body.get("default"), body.get("chaos"), body.get("seed")
    if default is not None and not isinstance(default, str):
        raise invalid_parameter("`default` must be a fault spec string or null.")
    if chaos is not None and not isinstance(chaos, dict):
        raise invalid_parameter('`chaos` must be {"<fault spec>": rate} or null.')
    if seed is not None and type(seed) is not int:
        raise invalid_parameter("`seed` must be an integer or null.")
    try:
        plan = parse_fault(default) if default is not None else None
        rates = parse_rates(chaos or {})
    except FaultSpecError as exc:
        raise invalid_fault(str(exc)) from None
    namespace = namespace_of(request.scope)
    config = state.chaos.configure(namespace, plan if plan is None or not plan.is_none else None, rates, seed)
    return JSONResponse({"namespace": namespace, **config.view()})


async def get_faults(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    namespace = namespace_of(request.scope)
    return JSONResponse({"namespace": namespace, **state.chaos.config(namespace).view()})


async def set_scenario(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    body = await _object(request, '{"key": "<API key>", "steps": {"<call number>": "<fault spec>"}}')
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise invalid_parameter("`key` must be the API key whose calls the scenario scripts.")
    try:
        steps = parse_steps(body.get("steps"))
    except FaultSpecError as exc:
        raise invalid_fault(str(exc)) from None
    namespace = namespace_of(request.scope)
    scenario = state.scenarios.set(namespace, key, steps)
    return JSONResponse({"key": key, "namespace": namespace, **scenario.view()})


async def get_scenarios(request: Request) -> JSONResponse:
    require_local(request)
    state = mock_state(request)
    namespace = namespace_of(request.scope)
    key = request.query_params.get("key")
    scenarios = state.scenarios.in_namespace(namespace)
    if key is not None:
        scenarios = {key: scenarios[key]} if key in scenarios else {}
    views = [{"key": name, **scenario.view()} for name, scenario in scenarios.items()]
    return JSONResponse({"namespace": namespace, "scenarios": views})


def invalid_fault(message: str) -> MockAPIError:
    return MockAPIError(400, "invalid_mock_fault", f"{message}.")


async def _object(request: Request, shape: str) -> dict[str, Any]:
    payload = await read_control_json(request, MAX_CONTROL_BODY)
    if not isinstance(payload, dict):
        raise invalid_parameter(f"Body must be {shape}.")
    return payload
