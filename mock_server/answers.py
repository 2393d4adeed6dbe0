"""What answers a chat request: a matching fixture, or a synthesized completion.

Shared by the synchronous endpoint and async jobs, so a job's response is the same chat
completion the synchronous endpoint gives for that request.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from contract.schemas import ChatCompletionRequest
from mock_server.catalog import ModelSpec
from mock_server.completion import Completion, completion_from_body, synthesize_completion
from mock_server.fixtures import Fixture
from mock_server.ids import new_id
from mock_server.state import MockState
from mock_server.synthesis import question_text

SECONDS_PER_DAY = 86400


@lru_cache(maxsize=64)
def utc_date(day: int) -> datetime.date:
    """The UTC date of day `day` since the epoch: the same for every request of a day, made once."""
    return datetime.datetime.fromtimestamp(day * SECONDS_PER_DAY, datetime.UTC).date()


class PlannedAnswer(NamedTuple):  # a tuple: made on every request, and a frozen dataclass costs more
    fixture: Fixture | None
    # None when the fixture answers with an error status.
    completion: Completion | None

    @property
    def error(self) -> dict[str, Any] | None:
        """The fixture's error body, when it answers with one."""
        if self.fixture is not None and self.fixture.spec.response.status >= 400:
            return self.fixture.spec.response.body
        return None


def plan_answer(
    state: MockState,
    payload: dict[str, Any],
    chat: ChatCompletionRequest,
    spec: ModelSpec,
    now: float,
    raw: bytes | None = None,
) -> PlannedAnswer:
    """`raw`, the request's body when there is one, is a cheaper cache key than the request re-encoded."""
    today = utc_date(int(now // SECONDS_PER_DAY))
    seed = state.settings.seed
    # Only synthesized answers are cached, so a hit also means no fixture matched: the key holds
    # the fixture store's generation, which a fixture added at run time (recording) changes.
    request_key = raw if raw is not None else chat.model_dump_json(by_alias=True)
    key = (seed, today, state.fixtures.generation, spec.name, request_key)
    planned = state.answers.get(key)
    if planned is None:
        fixture = state.fixtures.match("chat.completions", payload, [question_text(chat)])
        if fixture is not None:
            body = fixture.spec.response.body
            if fixture.spec.response.status >= 400 or body is None:
                return PlannedAnswer(fixture, None)
            return PlannedAnswer(fixture, completion_from_body(body, chat, spec))
        planned = state.answers.put(key, synthesize_completion(chat, spec, seed, today, state.corpus))
    # A fresh id per answer, as on the real API; spec strictness answers an unknown model as
    # sonar, under the name the caller asked for.
    return PlannedAnswer(None, planned.renamed(new_id(), chat.model))
