"""Bad input gets the real API's 4xx in its error envelope; nothing answers 5xx."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import chat_body, make_app

pytestmark = pytest.mark.anyio

INVALID_KEY = {
    "error": {
        "message": "Invalid API key provided. Ensure your API key is correct and active.",
        "type": "invalid_api_key",
        "code": 401,
    }
}
ALTERNATION = (
    "After the (optional) system message(s), user or tool message(s) should alternate with assistant message(s)."
)
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


def error(status: int, type: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "code": status}}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def system(text: str) -> dict[str, Any]:
    return {"role": "system", "content": text}


async def post(client: httpx.AsyncClient, body: Any, **kwargs: Any) -> httpx.Response:
    return await client.post("/chat/completions", json=body, **kwargs)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk-not-perplexity"},
        {"Authorization": "Basic cHBseC14"},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong-prefix", "wrong-scheme", "empty"],
)
async def test_missing_or_bad_key_gets_401(app: Any, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as anonymous:
        response = await anonymous.post("/chat/completions", json=chat_body(), headers=headers)
    assert response.status_code == 401
    assert response.json() == INVALID_KEY


@pytest.mark.parametrize(
    "model",
    [
        "sonar-medium-online",
        "llama-3.1-sonar-small-128k-online",
        "sonar-reasoning",
        "r1-1776",
        "sonar-pro ",
        "perplexity/sonar",
    ],
)
async def test_unknown_and_retired_models_get_invalid_model(client: httpx.AsyncClient, model: str) -> None:
    response = await post(client, chat_body(model))
    assert response.status_code == 400
    assert response.json() == error(
        400,
        "invalid_model",
        f"Invalid model '{model}'. Permitted models can be found in the documentation at "
        "https://docs.perplexity.ai/docs/getting-started/models.",
    )


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([user("a"), user("b")], ALTERNATION),
        ([user("a"), assistant("b"), assistant("c"), user("d")], ALTERNATION),
        ([user("a"), system("b"), user("c")], ALTERNATION),
        ([user("a"), assistant("b")], "Last message must have role `user`."),
        ([system("only a system prompt")], "Last message must have role `user`."),
    ],
    ids=["two-users", "two-assistants", "late-system", "ends-with-assistant", "only-system"],
)
async def test_message_order_rules(client: httpx.AsyncClient, messages: list[Any], message: str) -> None:
    response = await post(client, {"model": "sonar", "messages": messages})
    assert response.status_code == 400
    assert response.json() == error(400, "invalid_message", message)


@pytest.mark.parametrize(
    "messages",
    [
        [system("be brief"), system("cite sources"), user("a")],
        [user("a"), assistant("b"), user("c")],
        [assistant("greeting"), user("question")],
        [
            user("weather?"),
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
            },
            {"role": "tool", "content": "sunny", "tool_call_id": "1"},
            {"role": "tool", "content": "warm", "tool_call_id": "2"},
        ],
    ],
    ids=["systems-then-user", "alternating", "assistant-first", "tool-results"],
)
async def test_valid_message_orders_are_accepted(client: httpx.AsyncClient, messages: list[Any]) -> None:
    assert (await post(client, {"model": "sonar", "messages": messages})).status_code == 200


async def test_max_tokens_floor_has_the_observed_message(client: httpx.AsyncClient) -> None:
    response = await post(client, chat_body(max_tokens=1))
    assert response.json() == error(400, "invalid_parameter", "max_tokens must be at least 16 for sonar.")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", 0),
        ("max_tokens", 128001),
        ("temperature", 2.5),
        ("temperature", -0.1),
        ("top_p", 1.5),
        ("top_k", 4096),
        ("presence_penalty", -3),
        ("frequency_penalty", 3),
        ("n", 11),
        ("stream_mode", "verbose"),
        ("search_mode", "news"),
        ("search_recency_filter", "decade"),
        ("reasoning_effort", "extreme"),
        ("web_search_options", {"search_context_size": "huge"}),
        ("search_after_date_filter", "2025-03-01"),
        ("search_domain_filter", [f"site{i}.com" for i in range(21)]),
        ("search_domain_filter", ["a" * 254]),
        ("search_language_filter", ["eng"]),
        ("response_format", {"type": "xml"}),
        ("messages", "hello"),
        ("messages", []),
    ],
)
async def test_out_of_range_and_malformed_values(client: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await post(client, {**chat_body(), field: value})
    body = response.json()
    assert response.status_code == 400
    assert body["error"]["type"] in {"invalid_parameter", "invalid_message"}
    assert field in body["error"]["message"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"search_after_date_filter": "2/30/2025"}, "not a valid date"),
        ({"search_recency_filter": "week", "search_after_date_filter": "3/1/2025"}, "cannot be combined"),
        ({"search_after_date_filter": "5/1/2025", "search_before_date_filter": "3/1/2025"}, "must not be later"),
        ({"last_updated_after_filter": "5/1/2025", "last_updated_before_filter": "3/1/2025"}, "must not be later"),
        ({"search_domain_filter": ["-"]}, "empty domain"),
        ({"response_format": {"type": "regex", "regex": {"regex": "^[0-9]+$"}}}, "Unsupported regex"),
        ({"response_format": {"type": "regex", "regex": {"regex": r"(a)\1"}}}, "Unsupported regex"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}, "json_schema"),
    ],
)
async def test_rules_beyond_the_schema(client: httpx.AsyncClient, extra: dict[str, Any], fragment: str) -> None:
    response = await post(client, chat_body(**extra))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_parameter"
    assert fragment in response.json()["error"]["message"]


async def test_recursive_json_schema_is_unsupported(client: httpx.AsyncClient) -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    response = await post(client, chat_body(response_format={"type": "json_schema", "json_schema": {"schema": schema}}))
    assert response.status_code == 400
    assert "recursive" in response.json()["error"]["message"].lower()


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "string", "format": "email", "maxLength": 3}, "Could not produce a email string"),
        ({"type": "string", "minLength": 3_000_000}, "The schema asks for more than any answer can hold"),
    ],
    ids=["no-room-for-the-format", "larger-than-any-answer"],
)
async def test_a_schema_the_mock_cannot_answer_is_a_400(client: httpx.AsyncClient, schema: Any, reason: str) -> None:
    # The checks pass, the answer cannot be built: the client gets the checks' 400, not a 500.
    wrapped = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    body = chat_body(response_format={"type": "json_schema", "json_schema": {"schema": wrapped}})
    response = await post(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Unsupported json_schema in response_format: " + reason)


async def test_regex_is_only_for_sonar(client: httpx.AsyncClient) -> None:
    response = await post(
        client, chat_body("sonar-pro", response_format={"type": "regex", "regex": {"regex": "[a-z]+"}})
    )
    assert (
        response.json()["error"]["message"] == "response_format type 'regex' is not supported for sonar-pro; use sonar."
    )


def image_message(url: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}],
        }
    ]


@pytest.mark.parametrize("url", [PNG, "https://example.com/cat.png"])
async def test_images_as_data_uri_or_https_url(client: httpx.AsyncClient, url: str) -> None:
    assert (await post(client, {"model": "sonar-pro", "messages": image_message(url)})).status_code == 200


@pytest.mark.parametrize(
    ("model", "url", "extra", "fragment"),
    [
        ("sonar-deep-research", PNG, {}, "does not accept image input"),
        ("sonar", "http://example.com/cat.png", {}, "HTTPS URL or a base64 data URI"),
        ("sonar", "data:image/bmp;base64,Qk0=", {}, "HTTPS URL or a base64 data URI"),
        ("sonar", "data:image/png;base64,@@@", {}, "not valid base64"),
        ("sonar", PNG, {"response_format": {"type": "regex", "regex": {"regex": "[a-z]+"}}}, "cannot be combined"),
    ],
)
async def test_image_rules(
    client: httpx.AsyncClient, model: str, url: str, extra: dict[str, Any], fragment: str
) -> None:
    response = await post(client, {"model": model, "messages": image_message(url), **extra})
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


async def test_pro_search_requires_streaming(client: httpx.AsyncClient) -> None:
    body = chat_body("sonar-pro", web_search_options={"search_type": "pro"})
    response = await post(client, body)
    assert response.json() == error(
        400, "invalid_parameter", "web_search_options.search_type 'pro' requires stream: true."
    )
    assert (await post(client, {**body, "stream": True})).status_code == 200


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient) -> None:
    response = await post(client, chat_body(not_a_real_parameter=True, web_search_options={"max_search_results": 3}))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"type": "text"}, "Missing required field: messages.0.content.0.text."),
        ({"type": "text", "text": 5}, "Invalid value for messages.0.content.0.text: Input should be a valid string."),
        ({"type": "image_url", "image_url": None}, "Invalid value for messages.0.content.0.image_url: "),
        ({"type": "foo"}, "Invalid value for messages.0.content.0: Input tag 'foo' found using 'type'"),
    ],
)
async def test_a_bad_content_part_is_named_where_it_is(client: httpx.AsyncClient, part: Any, message: str) -> None:
    # `content` is a string or a list of parts: the error is the list's, which the client sent.
    response = await post(client, chat_body() | {"messages": [{"role": "user", "content": [part]}]})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'"temperature": NaN', "temperature"),
        (b'"top_p": Infinity', "top_p"),
        (b'"web_search_options": {"user_location": {"latitude": NaN}}', "web_search_options.user_location.latitude"),
    ],
)
async def test_nan_and_infinity_are_not_numbers(client: httpx.AsyncClient, body: bytes, field: str) -> None:
    # Python's JSON parser reads them, but they are not JSON (RFC 8259): a range check is no answer.
    content = b'{"model": "sonar", "messages": [{"role": "user", "content": "Hi"}], ' + body + b"}"
    response = await client.post("/chat/completions", content=content, headers={"content-type": "application/json"})
    assert response.json() == error(
        400, "invalid_parameter", f"Invalid value for {field}: Input should be a finite number."
    )


@pytest.mark.parametrize(
    ("content", "content_type", "status", "type"),
    [
        (b"{not json", "application/json", 400, "invalid_request"),
        (b"[1, 2]", "application/json", 400, "invalid_request"),
        (b"", "application/json", 400, "invalid_request"),
        (b'{"messages": []}', "application/json", 400, "invalid_request"),
        (b"model=sonar", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"model": 7, "messages": []}', "application/json", 400, "invalid_model"),
    ],
)
async def test_malformed_bodies(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, type: str
) -> None:
    response = await client.post("/chat/completions", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["error"]["type"] == type
    assert response.json()["error"]["code"] == status


DEEP = b"[" * 2000 + b"]" * 2000  # under 4 KB; exhausted the parser's stack
LONG_NUMBER = b'{"model": "sonar", "messages": [], "n": ' + b"1" * 5000 + b"}"  # more digits than int() takes


@pytest.mark.parametrize(
    ("path", "content", "reason"),
    [
        ("/chat/completions", LONG_NUMBER, "a number has more than 4300 digits"),
        ("/chat/completions", DEEP, "arrays or objects are nested more than 128 levels deep"),
        ("/search", DEEP, "arrays or objects are nested more than 128 levels deep"),
        ("/async/chat/completions", DEEP, "arrays or objects are nested more than 128 levels deep"),
        # Parsable, but deep enough to break pydantic's serializer when the answer is seeded.
        (
            "/chat/completions",
            b'{"model": "sonar", "messages": [{"role": "user", "content": "Hi"}], "response_format": '
            b'{"type": "json_schema", "json_schema": {"schema": {"type": "object", "properties": {}, "x": '
            + b"[" * 300
            + b"]" * 300
            + b"}}}}",
            "arrays or objects are nested more than 128 levels deep",
        ),
    ],
)
async def test_bodies_json_cannot_represent_are_a_400(
    client: httpx.AsyncClient, path: str, content: bytes, reason: str
) -> None:
    response = await client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.json() == error(400, "invalid_request", f"Request body is not valid JSON: {reason}.")


@pytest.mark.parametrize(("wraps", "status"), [(125, 200), (126, 400)])
async def test_nesting_up_to_the_limit_is_accepted(client: httpx.AsyncClient, wraps: int, status: int) -> None:
    nested = chat_body()  # 3 levels: the body, its messages, a message
    for _ in range(wraps):
        nested = chat_body(x=nested)
    assert (await post(client, nested)).status_code == status


async def test_oversized_body_gets_413() -> None:
    transport = httpx.ASGITransport(app=make_app(max_body_bytes=1000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mock", headers={"Authorization": "Bearer pplx-k"}
    ) as client:
        response = await post(client, chat_body(question="x" * 2000))
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "payload_too_large"


async def test_unknown_route_and_method_answer_like_the_real_api(client: httpx.AsyncClient) -> None:
    missing = await client.post("/v1/chat/completions", json=chat_body())
    assert (missing.status_code, missing.content) == (404, b"")
    wrong_method = await client.get("/chat/completions")
    assert (wrong_method.status_code, wrong_method.content) == (405, b"")


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    for response in (await post(client, chat_body()), await post(client, chat_body("nope")), await client.get("/x")):
        assert len(response.headers["x-request-id"]) == 36
