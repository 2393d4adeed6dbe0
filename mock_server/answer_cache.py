"""A bounded cache of planned answers, so that a repeated request does not pay for planning again."""

from __future__ import annotations

import datetime
from collections import OrderedDict

from mock_server.completion import Completion

# Seed, day, fixture store generation, model, and the request: its body's bytes or its JSON re-encoded.
AnswerKey = tuple[int, datetime.date, int, str, bytes | str]


class AnswerCache:
    """Synthesized completions by request, seed and day, least recently used first out.

    Planning an answer (search, synthesis, token counts) is most of what a request costs, and the
    same request always gets the same answer but for its id, so a repeated request reuses it.
    Completions are never changed once planned; callers copy them with a new id.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[AnswerKey, Completion] = OrderedDict()

    def get(self, key: AnswerKey) -> Completion | None:
        completion = self._entries.get(key)
        if completion is not None:
            self._entries.move_to_end(key)
        return completion

    def put(self, key: AnswerKey, completion: Completion) -> Completion:
        self._entries[key] = completion
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return completion
