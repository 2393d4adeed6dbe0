"""The contract suite: every operation of contract/openapi.yaml, run against the target.

Schemathesis generates requests from the document (its coverage phase's boundary cases, then
Hypothesis fuzzing, valid and invalid data alike) and checks each response with the checks
enabled in contract/schemathesis.toml: no 5xx, documented status codes and content types,
response bodies and headers that match their schemas, invalid requests rejected with a 4xx.

Streamed answers (`text/event-stream`): schemathesis validates every event against the document's
per-event schema (the chunk's JSON inside `data`, or `[DONE]`); the suite also checks the framing:
whole events, at least one chunk, and `data: [DONE]` last and only last.

Besides the generated cases: one streamed answer per streaming operation, model and stream mode;
every operation without a valid key (401 `invalid_api_key`); and an async job created, then read
back. A 429 fails the case: it means the target throttled the suite and nothing else was checked.

The target (the in-process mock by default) comes from the `contract_target` fixture. Against a
live target (`--target URL`, see contract/live.py) the same tests run with bounded examples and
no coverage phase; accepted chat requests use the cheapest model and a short answer; no call is
sent once the billed `usage.cost.total_cost` (or the estimate, when an answer reports none) would
pass `--max-cost`, and the rest skip; a 429 is waited out (Retry-After) and retried once, then
skipped, never failed; async jobs (deep research) are only created with `--allow-expensive`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, NoReturn

import pytest
import schemathesis

from contract import live
from contract.prices import estimate_cost, reported_cost
from contract.targets import Target, bearer, load_schema

RUN = live.current()
schema = load_schema(RUN.max_examples if RUN.live else None)

# Schemathesis' generic types, whatever the specification behind them.
Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
EVENT_STREAM = "text/event-stream"
DONE = "[DONE]"
RATE_LIMITED = 429
SSE_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def operations() -> list[Operation]:
    """Every operation in the document, whatever it holds when the suite is collected."""
    return [
        schema[path][method]
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


# -- sending a case and checking the answer ----------------------------------------------------


def send(case: Case, target: Target, headers: dict[str, str]) -> schemathesis.Response:
    """Send `case` to the target with `headers`, and run the configured checks on the answer."""
    response = call_live(case, target, headers) if target.budget else case.call(**target.call_kwargs(), headers=headers)
    if response.status_code == RATE_LIMITED:
        # Documented, but it means the case reached none of the behaviour under test.
        pytest.fail(
            f"{case.operation.label}: {target.name} rate-limited the suite (429), so the case checked nothing. "
            "Run it against a target that does not limit this key."
        )
    transport_kwargs = {**target.call_kwargs(), "headers": headers}
    # For a stream, the response schema check validates every event against the document's
    # per-event schema (each chunk's JSON inside `data`); the framing is checked here.
    case.validate_response(response, headers=headers, transport_kwargs=transport_kwargs)
    if is_event_stream(response):
        check_event_stream(case, response, headers)
    return response


def call_live(case: Case, target: Target, headers: dict[str, str]) -> schemathesis.Response:
    """Send `case` to a paid API: cheapened, within the budget, a 429 waited out once."""
    budget = target.budget
    assert budget is not None
    operation = case.operation
    if case.meta is None or case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE:
        case.body = live.cheapen(operation.path, case.body)
    paid = headers == target.auth_headers()
    estimate = estimate_cost(operation.method, operation.path, case.body) if paid else 0.0
    if not budget.allows(estimate):
        pytest.skip(reason=budget.exhausted_message(operation.label, estimate))
    response = case.call(**target.call_kwargs(), headers=headers)
    if response.status_code == RATE_LIMITED:
        time.sleep(live.retry_wait({name: values[0] for name, values in response.headers.items()}))
        response = case.call(**target.call_kwargs(), headers=headers)
        if response.status_code == RATE_LIMITED:
            why = f"live contract run: {target.name} answered 429 twice for {operation.label}; not a failure"
            pytest.skip(reason=why)
    if response.status_code < 300:
        budget.charge(billed(response, estimate))
    return response


def billed(response: schemathesis.Response, estimate: float) -> float:
    """What an accepted call cost: the answer's `usage.cost.total_cost`, else the estimate."""
    if is_event_stream(response):
        chunks = [data for data in sse_data(response.content.decode("utf-8", "replace")) if data != DONE]
        body: Any = chunks[-1] if chunks else None
        try:
            body = json.loads(body) if body else None
        except ValueError:
            body = None
    else:
        try:
            body = response.json()
        except ValueError:
            body = None
    cost = reported_cost(body)
    return estimate if cost is None else cost


def is_event_stream(response: schemathesis.Response) -> bool:
    content_type = response.headers.get("content-type", [""])[0]
    return content_type.split(";", 1)[0].strip().lower() == EVENT_STREAM


def sse_data(text: str) -> list[str]:
    """The `data` of each event in an SSE body (WHATWG rules: `data:` lines joined, comments skipped)."""
    events: list[str] = []
    lines: list[str] = []
    for line in SSE_LINE_BREAK.split(text.removeprefix("\ufeff")):
        if not line:
            if lines:
                events.append("\n".join(lines))
            lines = []
        elif line.startswith("data:"):
            lines.append(line.removeprefix("data:").removeprefix(" "))
    if lines:
        # An event is only dispatched at a blank line; a trailing one without it is incomplete.
        raise ValueError(f"the stream ends inside an event: {lines[-1][:80]!r}")
    return events


def check_event_stream(case: Case, response: schemathesis.Response, headers: dict[str, str]) -> None:
    def fail(problem: str) -> NoReturn:
        pytest.fail(f"{case.operation.label}: {problem}\n\nReproduce with:\n\n    {case.as_curl_command(headers)}")

    try:
        events = sse_data(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        fail(str(exc))
    if not events or events[-1] != DONE:
        fail(f"the stream does not end with `data: {DONE}` ({len(events)} events)")
    if len(events) < 2:
        fail(f"the stream holds no chunk before `data: {DONE}`")
    if DONE in events[:-1]:
        fail(f"`data: {DONE}` comes before the end of the stream")


# -- every operation, generated cases ----------------------------------------------------------


@schema.parametrize()
def test_operation_conforms(case: Case, contract_target: Target) -> None:
    skip_if_expensive(case.operation, contract_target)
    send(case, contract_target, contract_target.auth_headers())


def skip_if_expensive(operation: Operation, target: Target) -> None:
    if target.live and live.is_expensive(operation.method, operation.path) and not RUN.allow_expensive:
        pytest.skip(reason="live contract run: async jobs run deep research (dollars a call); pass --allow-expensive")


# -- streamed answers, every model and stream mode --------------------------------------------

# Generated cases rarely combine `stream: true` with a conversation the API accepts (message
# order rules), so every streaming operation also streams one answer per model and stream mode.
QUESTION = "What limits the energy density of lithium-ion cells?"


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/components/schemas/...`) of the document, if `node` is one."""
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    target: Any = schema.raw_schema
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return resolve(target)


def streamed_requests() -> list[Any]:
    """A `pytest.param(operation, body)` per operation documenting `text/event-stream` × model × stream mode."""
    found = []
    for operation in operations():
        responses = operation.definition.raw.get("responses", {})
        if EVENT_STREAM not in responses.get("200", {}).get("content", {}):
            continue
        body = resolve(operation.definition.raw["requestBody"]["content"]["application/json"]["schema"])
        properties = body.get("properties", {})
        for model in properties.get("model", {}).get("enum", []):
            for mode in properties.get("stream_mode", {}).get("enum", []):
                request = {
                    "model": model,
                    "messages": [{"role": "user", "content": QUESTION}],
                    "stream": True,
                    "stream_mode": mode,
                }
                found.append(pytest.param(operation, request, id=f"{operation.label} {model} {mode}"))
    return found


@pytest.mark.parametrize(("operation", "body"), streamed_requests())
def test_streamed_answer_conforms(operation: Operation, body: dict[str, Any], contract_target: Target) -> None:
    if contract_target.live and body["model"] != live.CHEAPEST_MODEL:
        pytest.skip(reason=f"live contract run: streams only {live.CHEAPEST_MODEL}, the cheapest model")
    response = send(
        operation.Case(body=body, media_type="application/json"), contract_target, contract_target.auth_headers()
    )
    assert response.status_code == 200, response.text[:300]
    assert is_event_stream(response), response.headers.get("content-type")


# -- every operation, without a valid key ------------------------------------------------------

# Each builds the Authorization header (or none) from the target's own, valid key.
BAD_CREDENTIALS: dict[str, Callable[[str], dict[str, str]]] = {
    "no-key": lambda key: {},
    "empty-bearer": lambda key: {"Authorization": "Bearer"},
    "not-a-pplx-key": lambda key: bearer("sk-contract-not-a-key"),
    "bare-key": lambda key: {"Authorization": key},
    "wrong-scheme": lambda key: {"Authorization": f"Basic {key}"},
}
INVALID_API_KEY_CODE = 401


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS))
@pytest.mark.parametrize("operation", operations(), ids=lambda operation: operation.label)
def test_operation_requires_a_valid_key(operation: Operation, credentials: str, contract_target: Target) -> None:
    # The key is checked before anything else, so the request need not be valid otherwise.
    path_parameters = {parameter.name: "contract-no-key" for parameter in operation.path_parameters}
    if operation.body:
        case = operation.Case(path_parameters=path_parameters, body={}, media_type="application/json")
    else:
        case = operation.Case(path_parameters=path_parameters)
    response = send(case, contract_target, BAD_CREDENTIALS[credentials](contract_target.api_key))
    assert response.status_code == INVALID_API_KEY_CODE, response.text[:300]
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"message", "type", "code"}, body
    assert error["type"] == "invalid_api_key", body
    assert error["code"] == INVALID_API_KEY_CODE, body
    assert isinstance(error["message"], str) and error["message"], body


# -- async jobs: create one, then read it back -------------------------------------------------

# Fuzzing never guesses a job id, so it only ever sees the 404 of the get operation; this reaches
# its 200, and with the mock's time scale 0 the job is already completed, its answer included.
JOB_REQUEST: dict[str, Any] = {
    "request": {
        "model": "sonar-deep-research",
        "messages": [{"role": "user", "content": "What limits the energy density of lithium-ion cells?"}],
    }
}


def job_operations() -> list[Operation]:
    """The async-job reads: GET one item of a collection that also has a POST (create) and GET (list)."""
    return [
        operation
        for operation in operations()
        if operation.method == "get"
        and "async" in (operation.tags or [])
        and len(list(operation.path_parameters)) == 1
        and operation.path.endswith("}")
    ]


@pytest.mark.parametrize("get_operation", job_operations(), ids=lambda operation: operation.label)
def test_a_created_job_can_be_read_back(get_operation: Operation, contract_target: Target) -> None:
    collection = get_operation.path.rsplit("/", 1)[0]
    (parameter,) = get_operation.path_parameters
    skip_if_expensive(schema[collection]["POST"], contract_target)

    def call_and_validate(case: Case) -> Any:
        response = send(case, contract_target, contract_target.auth_headers())
        assert response.status_code == 200, response.text[:300]
        return response.json()

    created = call_and_validate(schema[collection]["POST"].Case(body=JOB_REQUEST, media_type="application/json"))
    job = call_and_validate(get_operation.Case(path_parameters={parameter.name: created["id"]}))
    assert job["id"] == created["id"]
    listed = call_and_validate(schema[collection]["GET"].Case())
    assert created["id"] in [summary["id"] for summary in listed["requests"]]
