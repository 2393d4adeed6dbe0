"""The pieces that make a request cheap must not change what it answers."""

from __future__ import annotations

import dataclasses
import datetime
import json
import uuid
from pathlib import Path

import pytest
from starlette.requests import Request

from contract.schemas import ChatCompletionRequest
from mock_server.app import create_app
from mock_server.body import CACHED_BODY_BYTES, BodyCache
from mock_server.catalog import MODELS
from mock_server.completion import synthesize_completion
from mock_server.corpus import load_corpus
from mock_server.ids import new_id
from mock_server.request_headers import bearer_token, header, request_headers
from mock_server.settings import Settings
from mock_server.sse import encode_json, encode_string
from mock_server.state import mock_state

FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_new_ids_are_distinct_version_4_uuids() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in list(ids)[:50]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


# A fixed id rather than `new_id()`: parameters must be the same in every process (pytest-xdist).
ID = "4b0e2a5c-9d1f-4c7e-8a36-2f5d7e9c1b80"


@pytest.mark.parametrize("text", ["sonar", "sonar-pro", ID, "é-ü", "", "-", 'a"b', "a\\b", "a b", "tab\t", "x\u2028"])
def test_encode_string_is_encode_json(text: str) -> None:
    assert encode_string(text) == encode_json(text)


def test_the_same_bytes_parse_to_the_same_body_within_the_bound() -> None:
    cache = BodyCache(size=2)
    first = cache.parse(b'{"a": 1}')
    assert cache.parse(b'{"a": 1}') is first and first.payload == {"a": 1}
    cache.parse(b'{"b": 2}')
    cache.parse(b'{"c": 3}')
    assert cache.parse(b'{"a": 1}') is not first, "the least recently used is forgotten"


def test_large_and_invalid_bodies_are_not_kept() -> None:
    cache = BodyCache()
    large = json.dumps({"text": "x" * CACHED_BODY_BYTES}).encode()
    assert cache.parse(large) is not cache.parse(large)
    with pytest.raises(ValueError):
        cache.parse(b"{not json")
    with pytest.raises(ValueError):
        cache.parse(b"\xff")


def test_request_headers_take_the_first_value_of_a_name() -> None:
    scope = {
        "headers": [(b"authorization", b"Bearer pplx-one"), (b"authorization", b"Bearer pplx-two"), (b"x-a", b"1")]
    }
    headers = request_headers(scope)
    assert headers == {b"authorization": b"Bearer pplx-one", b"x-a": b"1"}
    assert request_headers(scope) is headers, "read once per request"
    assert bearer_token(scope) == "pplx-one"
    assert header(scope, b"x-a") == "1" and header(scope, b"x-b") is None


@pytest.mark.parametrize("authorization", [b"Basic abc", b"bearer   ", b"Bearer", b""])
def test_only_a_bearer_token_is_a_key(authorization: bytes) -> None:
    assert bearer_token({"headers": [(b"authorization", authorization)]}) is None
    assert bearer_token({"headers": [(b"authorization", b"bearer pplx-x ")]}) == "pplx-x"


def test_a_renamed_completion_differs_only_in_id_and_model() -> None:
    request = ChatCompletionRequest.model_validate({"model": "sonar", "messages": [{"role": "user", "content": "Hi?"}]})
    planned = synthesize_completion(request, MODELS["sonar"], 0, datetime.date(2026, 11, 23), load_corpus(FIXTURES))
    copy = planned.renamed("other-id", "sonar-custom")
    assert (copy.id, copy.model) == ("other-id", "sonar-custom")
    assert (planned.id, planned.model) != (copy.id, copy.model)
    for field in dataclasses.fields(planned):
        if field.name not in {"id", "model"}:
            assert getattr(copy, field.name) is getattr(planned, field.name), field.name
    assert json.loads(copy.encode_body(1))["id"] == "other-id"


def test_handlers_read_the_state_the_app_was_built_with() -> None:
    app = create_app(Settings())
    request = Request({"type": "http", "app": app, "headers": []})
    assert mock_state(request) is app.state.mock
