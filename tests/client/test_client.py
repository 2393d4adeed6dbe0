"""Client behaviour over httpx.MockTransport: retries, errors, streams, timeouts, secrecy."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from contract.client import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    IncompleteStreamError,
    InternalServerError,
    Limit,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
)
from tests.client.fakes import FAKE_KEY, MESSAGES, FakeTime, completion, envelope, sse

Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, fake: FakeTime | None = None, **options) -> Client:
    fake = fake or FakeTime()
    return Client(
        api_key=FAKE_KEY,
        base_url="http://api.test",
        transport=httpx.MockTransport(handler),
        clock=fake,
        sleep=fake.sleep,
        rng=random.Random(0),
        **options,
    )


def amake(handler: Callable[..., Any], fake: FakeTime, **options: Any) -> AsyncClient:
    return AsyncClient(
        api_key=FAKE_KEY,
        base_url="http://api.test",
        transport=httpx.MockTransport(handler),
        clock=fake,
        sleep=fake.asleep,
        **options,
    )


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    items = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = next(items)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPLEXITY_API_KEY", FAKE_KEY)
    monkeypatch.setenv("PERPLEXITY_BASE_URL", "http://env.test/")
    handler, seen = sequence(httpx.Response(200, json=completion()))
    client = Client(transport=httpx.MockTransport(handler))
    assert client.chat(model="sonar", messages=MESSAGES).choices[0].message.content == "Hello"
    assert str(seen[0].url) == "http://env.test/chat/completions"
    assert seen[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_a_missing_key_is_refused_before_any_request() -> None:
    with pytest.raises(Exception, match="PERPLEXITY_API_KEY"):
        Client()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (413, APIStatusError),
    ],
)
def test_each_status_family_has_its_class_with_status_envelope_and_request_id(
    status: int, cls: type[APIStatusError]
) -> None:
    body = envelope(status, "some_type", "went wrong")
    handler, _ = sequence(httpx.Response(status, json=body, headers={"X-Request-ID": "req-1"}))
    with pytest.raises(cls) as caught:
        make(handler, retry=RetryPolicy(max_retries=0)).chat(model="sonar", messages=MESSAGES)
    error = caught.value
    assert type(error) is cls
    assert (error.status_code, error.request_id) == (status, "req-1")
    assert error.error is not None and error.error.error.type == "some_type"
    assert str(error) == f"Error code: {status} - {json.dumps(body)}"


def test_an_empty_or_html_error_body_has_no_envelope() -> None:
    handler, _ = sequence(httpx.Response(404), httpx.Response(401, text="<html>401</html>"))
    client = make(handler)
    with pytest.raises(NotFoundError) as missing:
        client.get_job("x")
    assert missing.value.error is None and str(missing.value) == "Error code: 404"
    with pytest.raises(AuthenticationError, match="<html>"):
        client.get_job("x")


def test_503_then_success_waits_as_told() -> None:
    fake = FakeTime()
    handler, seen = sequence(
        httpx.Response(503, json=envelope(503), headers={"retry-after-ms": "200"}),
        httpx.Response(200, json=completion()),
    )
    make(handler, fake).chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 2 and fake.sleeps == [0.2]


def test_a_429_storm_gives_up_after_max_retries_with_rate_limit_error() -> None:
    fake = FakeTime()
    storm = [httpx.Response(429, json=envelope(429), headers={"Retry-After": "1"}) for _ in range(4)]
    handler, seen = sequence(*storm)
    with pytest.raises(RateLimitError):
        make(handler, fake, retry=RetryPolicy(max_retries=3)).search(query="q")
    assert len(seen) == 4 and fake.sleeps == [1.0, 1.0, 1.0]


def test_a_post_is_not_resent_after_a_500_but_a_get_is() -> None:
    handler, seen = sequence(httpx.Response(500), httpx.Response(500), httpx.Response(200, json=job()))
    client = make(handler)
    with pytest.raises(InternalServerError):
        client.chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 1
    assert client.get_job("j1").status == "COMPLETED" and len(seen) == 3


def test_a_post_is_resent_after_a_connect_error_but_not_after_a_read_error() -> None:
    handler, seen = sequence(httpx.ConnectError("refused"), httpx.Response(200, json=completion()))
    make(handler).chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 2
    handler, seen = sequence(httpx.ReadError("reset"))
    with pytest.raises(APIConnectionError):
        make(handler).chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 1


def test_x_should_retry_true_resends_a_post() -> None:
    handler, seen = sequence(httpx.Response(500, headers={"x-should-retry": "true"}), httpx.Response(200, json={}))
    with pytest.raises(Exception):  # noqa: B017 - the second answer is not a completion; only the count matters
        make(handler).chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 2


def test_an_idempotency_key_makes_job_creation_retryable() -> None:
    handler, seen = sequence(httpx.Response(502), httpx.Response(200, json=job("CREATED")))
    created = make(handler).create_job(model="sonar-deep-research", messages=MESSAGES, idempotency_key="k1")
    assert created.status == "CREATED" and len(seen) == 2


def test_a_hang_becomes_a_timeout_error() -> None:
    handler, seen = sequence(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        make(handler).get_job("j1")
    assert len(seen) == 3


def test_the_total_timeout_bounds_retries_and_waits() -> None:
    fake = FakeTime()
    slow = [httpx.Response(429, headers={"retry-after": "30"}, json=envelope(429, "rate_limit")) for _ in range(3)]
    handler, seen = sequence(*slow)
    # A second wait of 30 s would pass the 45 s budget: the call ends with the server's answer.
    with pytest.raises(RateLimitError) as raised:
        make(handler, fake, total_timeout=45).search(query="q")
    assert len(seen) == 2 and fake.sleeps == [30.0]
    assert raised.value.status_code == 429 and raised.value.error is not None


def test_a_first_wait_past_the_total_timeout_is_a_timeout_error() -> None:
    fake = FakeTime()
    handler, seen = sequence(httpx.Response(200, json=completion()))
    client = make(handler, fake, total_timeout=0.5, rate_limits={"sonar": Limit(1, period=1, burst=1)})
    client.chat(model="sonar", messages=MESSAGES)
    # The next token is 1 s away: nothing is sent.
    with pytest.raises(APITimeoutError, match="total timeout"):
        client.chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 1


def test_a_call_that_gives_up_before_sending_leaves_no_rate_limit_debt() -> None:
    fake = FakeTime()
    answers = [httpx.Response(200, json=completion()) for _ in range(2)]
    handler, seen = sequence(*answers)
    client = make(handler, fake, total_timeout=0.5, rate_limits={"sonar": Limit(1, period=1, burst=1)})
    client.chat(model="sonar", messages=MESSAGES)
    for _ in range(5):
        with pytest.raises(APITimeoutError):
            client.chat(model="sonar", messages=MESSAGES)
    # The five calls sent nothing, so they took nothing: a second later the token is there.
    assert client.rate_limiter.tokens("sonar") == pytest.approx(0.0)
    fake.now += 1.0
    client.chat(model="sonar", messages=MESSAGES)
    assert len(seen) == 2


class Interrupt(BaseException):
    """What a KeyboardInterrupt or a killed green thread looks like to the client: not an Exception."""


def test_an_interrupted_attempt_gives_its_concurrency_slot_back() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Interrupt
        return httpx.Response(200, json=completion())

    client = make(handler, max_concurrency=1, total_timeout=5)
    with pytest.raises(Interrupt):
        client.chat(model="sonar", messages=MESSAGES)
    assert client._slots.acquire(timeout=0), "the interrupted attempt kept its slot"
    client._slots.release()
    assert client.chat(model="sonar", messages=MESSAGES).choices[0].message.content == "Hello"


@pytest.mark.anyio
async def test_a_cancelled_async_call_gives_back_its_slot_and_its_token() -> None:
    answered = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if not answered.is_set():
            await anyio.sleep_forever()
        return httpx.Response(200, json=completion())

    fake = FakeTime()
    client = amake(
        handler, fake, max_concurrency=1, total_timeout=5, rate_limits={"sonar": Limit(1, period=1, burst=1)}
    )
    async with client:
        # Cancelled while its request is in flight (the token was spent: the request went out).
        with anyio.move_on_after(0.05):
            await client.chat(model="sonar", messages=MESSAGES)
        assert client._slots.value == 1, "the cancelled call kept its slot"
        # Cancelled while it waits for a token it never uses: the token comes back.
        client._sleep = lambda seconds: anyio.sleep_forever()
        with anyio.move_on_after(0.05):
            await client.chat(model="sonar", messages=MESSAGES)
        assert client.rate_limiter.tokens("sonar") == pytest.approx(0.0)
        answered.set()
        client._sleep = fake.asleep
        with anyio.fail_after(5):
            assert (await client.chat(model="sonar", messages=MESSAGES)).choices[0].message.content == "Hello"


def test_the_wait_for_a_slot_is_taken_from_the_attempt_timeouts() -> None:
    fake = FakeTime()
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        if json.loads(request.content)["stream"]:
            return stream_response(request)
        return httpx.Response(200, json=completion())

    client = make(handler, fake, max_concurrency=1, total_timeout=10)
    waiting = threading.Event()

    class Slots(threading.BoundedSemaphore):
        def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
            if timeout:  # the caller's wait, not the stream's own turn
                waiting.set()
            return super().acquire(blocking, timeout)

    client._slots = Slots(1)
    caller = threading.Thread(target=lambda: client.chat(model="sonar", messages=MESSAGES), daemon=True)
    with client.chat_stream(model="sonar", messages=MESSAGES):
        caller.start()
        assert waiting.wait(timeout=5)
        fake.now += 4  # the second call waits 4 s for the stream's slot
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert timeouts[-1]["read"] == pytest.approx(6)


def stream_response(request: httpx.Request) -> httpx.Response:
    body = sse(completion() | {"choices": [choice("Hello", "stop")]}, "[DONE]")
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def test_the_total_timeout_bounds_the_wait_for_a_concurrency_slot() -> None:
    client = make(stream_response, max_concurrency=1, total_timeout=0.05)
    failures: list[Exception] = []

    def search() -> None:
        try:
            client.search(query="q")
        except Exception as exc:
            failures.append(exc)

    with client.chat_stream(model="sonar", messages=MESSAGES):
        # The open stream holds the only slot: the next call gives up when its budget is spent (in
        # a thread, so that a call that waited for ever fails this test instead of hanging it).
        caller = threading.Thread(target=search, daemon=True)
        caller.start()
        caller.join(timeout=5)
        assert not caller.is_alive(), "the call waited past its total timeout"
    (failure,) = failures
    assert isinstance(failure, APITimeoutError) and "waiting for one of its 1 concurrent slots" in str(failure)
    # Closed, the stream gave its slot back.
    with client.chat_stream(model="sonar", messages=MESSAGES) as stream:
        assert [chunk.choices[0].delta.content for chunk in stream] == ["Hello"]


@pytest.mark.anyio
async def test_the_async_total_timeout_bounds_the_wait_for_a_concurrency_slot() -> None:
    client = amake(stream_response, FakeTime(), max_concurrency=1, total_timeout=0.05)
    async with client, await client.chat_stream(model="sonar", messages=MESSAGES):
        # fail_after: a call that waited for ever fails this test instead of hanging it.
        with anyio.fail_after(5), pytest.raises(APITimeoutError, match="waiting for one of its 1 concurrent slots"):
            await client.search(query="q")


def test_a_stream_yields_typed_chunks_and_the_answer() -> None:
    body = sse(
        completion("Hel") | {"choices": [choice("Hel")]}, completion() | {"choices": [choice("lo", "stop")]}, "[DONE]"
    )
    handler, _ = sequence(httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}))
    with make(handler).chat_stream(model="sonar", messages=MESSAGES) as stream:
        texts = [chunk.choices[0].delta.content for chunk in stream]
    assert texts == ["Hel", "lo"]
    assert (stream.answer.text, stream.answer.finish_reason, stream.answer.citations) == (
        "Hello",
        "stop",
        ["https://example.com"],
    )


def test_a_stream_cut_mid_way_raises_and_is_not_retried() -> None:
    def pieces() -> Iterator[bytes]:
        yield sse(completion() | {"choices": [choice("Hel")]})
        raise httpx.ReadError("connection reset")

    handler, seen = sequence(httpx.Response(200, content=pieces()))
    client = make(handler)
    with (
        pytest.raises(IncompleteStreamError, match="broke after 1 chunk"),
        client.chat_stream(model="sonar", messages=MESSAGES) as stream,
    ):
        for _ in stream:
            pass
    assert len(seen) == 1 and stream.answer.text == "Hel"


def test_a_stream_that_ends_without_done_raises() -> None:
    handler, _ = sequence(httpx.Response(200, content=sse(completion() | {"choices": [choice("Hel")]})))
    with pytest.raises(IncompleteStreamError, match="without `data: \\[DONE\\]`"):
        make(handler).chat_stream(model="sonar", messages=MESSAGES).until_done()


def test_a_refused_stream_is_retried_before_it_starts() -> None:
    handler, seen = sequence(
        httpx.Response(429, headers={"retry-after-ms": "10"}), httpx.Response(200, content=sse("[DONE]"))
    )
    assert make(handler).chat_stream(model="sonar", messages=MESSAGES).until_done().chunks == 0
    assert len(seen) == 2


def test_extra_headers_are_sent_per_request() -> None:
    handler, seen = sequence(httpx.Response(200, json={"requests": [], "next_token": None}))
    make(handler, headers={"X-Team": "a"}).list_jobs(limit=5, extra_headers={"X-Mock-Fault": "status=503"})
    assert seen[0].headers["x-mock-fault"] == "status=503" and seen[0].headers["x-team"] == "a"
    assert seen[0].url.params["limit"] == "5"


def test_wait_for_job_polls_with_backoff_until_terminal() -> None:
    fake = FakeTime()
    handler, seen = sequence(
        *(httpx.Response(200, json=job(s)) for s in ["CREATED", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"])
    )
    done = make(handler, fake).wait_for_job("j1", poll_interval=2, max_poll_interval=3)
    assert done.status == "COMPLETED" and len(seen) == 4 and fake.sleeps == [2, 3, 3]


def test_wait_for_job_stops_at_its_deadline() -> None:
    fake = FakeTime()
    handler, _ = sequence(*(httpx.Response(200, json=job("IN_PROGRESS")) for _ in range(10)))
    with pytest.raises(Exception, match="still IN_PROGRESS after 5 s"):
        make(handler, fake).wait_for_job("j1", timeout=5, poll_interval=2)
    assert sum(fake.sleeps) == 5


def test_the_key_never_appears_in_messages_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler, _ = sequence(
        httpx.Response(429, json=envelope(429), headers={"retry-after-ms": "1"}),
        httpx.Response(401, json=envelope(401, "invalid_api_key")),
        httpx.ConnectError("refused"),
        httpx.ConnectError("refused"),
        httpx.ConnectError("refused"),
    )
    client = make(handler)
    errors: list[APIError] = []
    for _ in range(2):
        with pytest.raises(APIError) as caught:
            client.chat(model="sonar", messages=MESSAGES)
        errors.append(caught.value)
    texts = [repr(client), *caplog.messages]
    for error in errors:
        texts += [str(error), repr(error), repr(error.request), repr(getattr(error, "__cause__", None))]
    assert caplog.messages, "retries are logged"
    assert not [text for text in texts if FAKE_KEY in text]


def choice(text: str, finish: str | None = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"index": 0, "finish_reason": finish, "message": message, "delta": message}


def job(status: str = "COMPLETED") -> dict[str, Any]:
    return {"id": "j1", "model": "sonar-deep-research", "created_at": 1, "status": status}
