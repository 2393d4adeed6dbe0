"""The request journal: what each API request got, per namespace, for `GET /_mock/requests`.

One bounded deque per namespace (`journal_size` entries, oldest dropped first). An entry is
appended when the request arrives, so the journal is in arrival order and shows requests still
in flight; the middleware fills in status, timings and stream counts as the response goes out.

The backoff verdict: when a request follows a 429 for the same namespace, key and rate limit (or,
for a 429 that names no limit, such as the concurrency cap's, the same method and path),
`waited_as_told` says whether it came at least the advised `retry-after-ms` later on the mock's
clock. Any answer but a 429 ends the retry sequence, so later requests get null again.

What the journal holds for a request in flight is whatever records it (`InFlight`: recorder.py's
`Recording`, or an `Entry`), asked for its fields only when someone reads the journal. A finished
entry is kept as a plain tuple of its fields (`Row`), built once when it ends. The garbage collector
stops tracking a tuple of strings, numbers and None after it has seen it once, whereas every object
with slots stays tracked: with 100,000 entries as objects a full collection took 22 ms, as rows
7.5 ms (most of it the rest of the process), a pause every request in flight waits for.
"""

from __future__ import annotations

import operator
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from mock_server.auth import KEY_PREFIX

# Float noise in clock readings must not turn an exact wait into "too early".
WAIT_SLACK_MS = 1e-3

RetryKey = tuple[str, ...]


# Slots: a full journal holds 100,000 of these, and without a dict each is half the size.
@dataclass(slots=True)
class Entry:
    seq: int
    time: float
    method: str
    path: str
    namespace: str
    # Kept only to find earlier 429s; never serialized.
    api_key: str | None
    model: str | None = None
    # The rate limit the request was charged against, when it got that far.
    limit: str | None = None
    status: int | None = None
    request_id: str | None = None
    fault: str | None = None
    # The fixture file that answered (its path below the fixtures directory), and whether the answer
    # was synthesized instead; both None for a request that got no answer from a handler (an error).
    fixture: str | None = None
    synthesized: bool | None = None
    done: bool = False
    duration_ms: float | None = None
    body_bytes: int = 0
    chunks: int | None = None
    retry_after_ms: int | None = None
    waited_ms: float | None = None
    advised_wait_ms: int | None = None
    waited_as_told: bool | None = None
    # Set by `Journal.open` (see `InFlight`); not part of a row, never serialized.
    position: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "namespace": self.namespace,
            "key": mask_key(self.api_key),
            "model": self.model,
            "limit": self.limit,
            "status": self.status,
            "request_id": self.request_id,
            "fault": self.fault,
            "fixture": self.fixture,
            "synthesized": self.synthesized,
            "done": self.done,
            "duration_ms": self.duration_ms,
            "bytes": self.body_bytes,
            "chunks": self.chunks,
            "retry_after_ms": self.retry_after_ms,
            "waited_ms": self.waited_ms,
            "advised_wait_ms": self.advised_wait_ms,
            "waited_as_told": self.waited_as_told,
        }

    def retry_keys(self) -> list[RetryKey]:
        """Where an earlier 429 this request retries is filed: by its limit, and by its route."""
        if self.api_key is None:
            return []
        by_route = (self.namespace, self.api_key, "route", self.method, self.path)
        if self.limit is None:
            return [by_route]
        return [(self.namespace, self.api_key, "limit", self.limit), by_route]

    def row(self) -> Row:
        return _row_of(self)


# An entry's fields in declaration order, `position` left out (a plain tuple, see above):
# `Entry(*row)` is the entry again.
Row = tuple[Any, ...]
ROW_FIELDS = Entry.__slots__[: Entry.__slots__.index("position")]
_row_of = operator.attrgetter(*ROW_FIELDS)
_STATUS = ROW_FIELDS.index("status")


class InFlight(Protocol):
    """What records a request while it is in flight: `Journal.open` numbers it and files it, and
    `row()` gives its entry as it stands (`done` false) whenever the journal is read."""

    seq: int
    namespace: str
    # How many entries its namespace had taken when it arrived, itself included: where it is in the
    # namespace's deque, counted from the newest end.
    position: int

    def row(self) -> Row: ...


@dataclass(frozen=True)
class _Refusal:
    time: float
    wait_ms: int


def mask_key(key: str | None) -> str | None:
    """`pplx-…abcd`: the prefix and, for keys long enough that it gives little away, the last 4."""
    if key is None:
        return None
    prefix = KEY_PREFIX if key.startswith(KEY_PREFIX) else ""
    rest = key[len(prefix) :]
    return f"{prefix}…{rest[-4:] if len(rest) >= 8 else ''}"


@dataclass
class Journal:
    size: int = 1000
    _entries: dict[str, deque[InFlight | Row]] = field(default_factory=dict)
    _refusals: dict[RetryKey, _Refusal] = field(default_factory=dict)
    # Entries each namespace has taken in all (see `InFlight.position`).
    _taken: dict[str, int] = field(default_factory=dict)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, item: InFlight) -> None:
        """File a request that has just arrived, numbering it (`seq`)."""
        namespace = item.namespace
        with self._lock:
            self._seq += 1
            item.seq = self._seq
            item.position = self._taken[namespace] = self._taken.get(namespace, 0) + 1
            # Not `setdefault(namespace, deque(...))`, which would build a deque on every request.
            entries = self._entries.get(namespace)
            if entries is None:
                entries = self._entries[namespace] = deque(maxlen=self.size)
            entries.append(item)

    def close(self, item: InFlight, row: Row) -> None:
        """Keep `row`, the finished entry of `item`, in its place; judge its backoff first, and
        remember it when it was itself refused."""
        # The usual case (no 429 pending or given) has nothing to judge and nothing to remember.
        if row[_STATUS] == 429 or self._refusals:
            entry = Entry(*row)
            self._judge(entry)
            row = _row_of(entry)
        namespace = item.namespace
        with self._lock:
            entries = self._entries.get(namespace)
            # 1 for the newest; gone when its namespace was reset or it was dropped as the oldest.
            back = self._taken[namespace] - item.position + 1
            if entries is not None and back <= len(entries) and entries[-back] is item:
                entries[-back] = row

    def _judge(self, entry: Entry) -> None:
        keys = entry.retry_keys()
        if not keys:
            return
        with self._lock:
            earlier: _Refusal | None = None
            for key in keys:
                refusal = self._refusals.pop(key, None)
                if (
                    refusal is not None
                    and refusal.time <= entry.time
                    and (earlier is None or refusal.time > earlier.time)
                ):
                    earlier = refusal
            if earlier is not None:
                entry.waited_ms = (entry.time - earlier.time) * 1000
                entry.advised_wait_ms = earlier.wait_ms
                entry.waited_as_told = entry.waited_ms + WAIT_SLACK_MS >= earlier.wait_ms
            if entry.status == 429 and entry.retry_after_ms is not None:
                # Filed under the most specific key: a retry that reaches the same limit finds it there.
                self._refusals[keys[0]] = _Refusal(entry.time, entry.retry_after_ms)

    def entries(self, namespace: str) -> list[Entry]:
        """The namespace's entries, oldest first, as they stand: copies, rebuilt from their rows."""
        with self._lock:
            kept = list(self._entries.get(namespace, ()))
        return [Entry(*(item if isinstance(item, tuple) else item.row())) for item in kept]

    def reset(self, namespace: str | None) -> None:
        with self._lock:
            if namespace is None:
                self._entries.clear()
                self._refusals.clear()
                return
            self._entries.pop(namespace, None)
            self._refusals = {k: v for k, v in self._refusals.items() if k[0] != namespace}
