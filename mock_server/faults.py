"""The fault grammar: what `X-Mock-Fault`, scenario steps, default faults and chaos rates say.

    spec   = fault *( ";" fault )          whitespace around names and values is ignored
    fault  = name [ "=" value ] | status   a bare status (`503`) is short for `status=503`

Names: `status=N` (400-599) with optional `retry-after-ms=M`; `latency=S` or `latency=A..B`
(uniform, seeded); `first-byte=S`; `hang`; `reset`; `stream-cut=N`; `stream-disconnect=S`;
`stream-malformed=N`; `stream-no-done`; `stream-error=N`; and `none` alone (no fault). Numbers
are ASCII digits, at most `MAX_SECONDS`, `MAX_RETRY_AFTER_MS` or `MAX_EVENTS`. A spec that breaks
a rule raises `FaultSpecError` naming the problem, so a typo never passes silently, and no spec
that parses can fail later, wherever it is stored (default faults, chaos, scenario steps).
Parsing is pure; applying a plan is `fault_middleware.py`'s job.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, fields, replace

from mock_server.errors import quoted

# ASCII digits only: `\d` alone also matches other scripts' digits, which `int()` reads too.
SECONDS = re.compile(r"(\d+(\.\d*)?|\.\d+)", re.ASCII)
COUNT = re.compile(r"\d+", re.ASCII)
STATUS = re.compile(r"[45]\d\d", re.ASCII)
# Upper bounds, far beyond what a test needs: a spec holds only numbers the mock can act on (no
# 400-digit count, no latency that outlasts any shutdown), and a few zeros too many is caught.
MAX_SECONDS = 86_400  # latency, first-byte, stream-disconnect: a day
MAX_RETRY_AFTER_MS = 86_400_000  # a day
MAX_EVENTS = 1_000_000  # stream-cut, stream-malformed, stream-error
# The faults that decide the whole answer: at most one of them per spec.
OUTCOMES = ("status", "hang", "reset")
# The faults that end a stream early: at most one of them too.
STREAM_ENDINGS = ("stream_cut", "stream_disconnect", "stream_error")
STREAM_FAULTS = (*STREAM_ENDINGS, "stream_malformed", "stream_no_done")


class FaultSpecError(ValueError):
    """A fault spec that does not parse; the message names the problem."""


@dataclass(frozen=True)
class Latency:
    low: float
    high: float

    def pick(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return _number(self.low) if self.low == self.high else f"{_number(self.low)}..{_number(self.high)}"


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request. Fields are in the order `spec` writes them."""

    latency: Latency | None = None
    status: int | None = None
    retry_after_ms: int | None = None
    hang: bool = False
    reset: bool = False
    first_byte: float | None = None
    stream_cut: int | None = None
    stream_disconnect: float | None = None
    stream_malformed: int | None = None
    stream_no_done: bool = False
    stream_error: int | None = None

    @property
    def is_none(self) -> bool:
        return self == FaultPlan()

    @property
    def touches_stream(self) -> bool:
        return any(getattr(self, name) not in (None, False) for name in STREAM_FAULTS)

    @property
    def spec(self) -> str:
        """The canonical text of this plan; parsing it gives the plan back."""
        parts = []
        for item in fields(self):
            value = getattr(self, item.name)
            name = item.name.replace("_", "-")
            if value is True:
                parts.append(name)
            elif value is not None and value is not False:
                parts.append(f"{name}={_number(value) if isinstance(value, float) else value}")
        return ";".join(parts) or "none"

    def resolved(self, rng: random.Random) -> FaultPlan:
        """This plan with a latency range replaced by one value drawn from `rng`."""
        if self.latency is None or self.latency.low == self.latency.high:
            return self
        value = round(self.latency.pick(rng), 3)
        return replace(self, latency=Latency(value, value))


def parse_fault(text: str) -> FaultPlan:
    items = [item.strip() for item in text.split(";")]
    if items == ["none"]:
        return FaultPlan()
    values: dict[str, object] = {}
    for item in items:
        if not item:
            raise FaultSpecError("empty fault (two `;` in a row, or a `;` at either end)")
        name, has_value, raw = (part.strip() for part in item.partition("="))
        name = name.lower()
        if STATUS.fullmatch(name) and not has_value:
            name, raw, has_value = "status", name, "="
        field_name = name.replace("-", "_")
        if field_name in values:
            raise FaultSpecError(f"`{name}` given twice")
        values[field_name] = _value(name, raw if has_value else None)
    plan = FaultPlan(**values)  # type: ignore[arg-type]
    _check(plan)
    return plan


def _value(name: str, raw: str | None) -> object:
    if name in ("hang", "reset", "stream-no-done"):
        if raw is not None:
            raise FaultSpecError(f"`{name}` takes no value")
        return True
    if name == "none":
        raise FaultSpecError("`none` cannot be combined with other faults")
    if name not in _PARSERS:
        raise FaultSpecError(f"unknown fault `{name}` (known: {', '.join(sorted([*_PARSERS, *_FLAGS]))})")
    if raw is None or raw == "":
        raise FaultSpecError(f"`{name}` needs a value: `{name}=...`")
    return _PARSERS[name](name, raw)


def _status(name: str, raw: str) -> int:
    if not STATUS.fullmatch(raw) or not 400 <= int(raw) <= 599:
        raise FaultSpecError(f"`{name}` must be an HTTP error status 400-599, got {quoted(raw)}")
    return int(raw)


def _whole_number(name: str, raw: str, maximum: int) -> int:
    if not COUNT.fullmatch(raw):
        raise FaultSpecError(f"`{name}` must be a whole number >= 0, got {quoted(raw)}")
    # The length first: `int()` refuses a string of more than 4300 digits with a plain ValueError.
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise FaultSpecError(f"`{name}` must be at most {maximum}, got {quoted(raw)}")
    return int(digits)


def _events(name: str, raw: str) -> int:
    return _whole_number(name, raw, MAX_EVENTS)


def _positive_events(name: str, raw: str) -> int:
    value = _events(name, raw)
    if value < 1:
        raise FaultSpecError(f"`{name}` counts events from 1, got {quoted(raw)}")
    return value


def _milliseconds(name: str, raw: str) -> int:
    return _whole_number(name, raw, MAX_RETRY_AFTER_MS)


def _seconds(name: str, raw: str) -> float:
    if not SECONDS.fullmatch(raw):
        raise FaultSpecError(f"`{name}` must be seconds (a number >= 0), got {quoted(raw)}")
    # `float()` never fails here: a number too large for a float reads as infinity.
    value = float(raw)
    if not value <= MAX_SECONDS:
        raise FaultSpecError(f"`{name}` must be at most {MAX_SECONDS} seconds, got {quoted(raw)}")
    return value


def _latency(name: str, raw: str) -> Latency:
    low, dots, high = raw.partition("..")
    first = _seconds(name, low.strip())
    last = _seconds(name, high.strip()) if dots else first
    if last < first:
        raise FaultSpecError(f"`{name}` range must go from low to high, got {quoted(raw)}")
    return Latency(first, last)


_PARSERS = {
    "status": _status,
    "retry-after-ms": _milliseconds,
    "latency": _latency,
    "first-byte": _seconds,
    "stream-cut": _events,
    "stream-disconnect": _seconds,
    "stream-malformed": _positive_events,
    "stream-error": _events,
}
_FLAGS = ("hang", "reset", "stream-no-done", "none")


def _check(plan: FaultPlan) -> None:
    outcomes = [name for name in OUTCOMES if getattr(plan, name) not in (None, False)]
    if len(outcomes) > 1:
        raise FaultSpecError(f"only one of status, hang, reset per request, got {' and '.join(outcomes)}")
    if plan.retry_after_ms is not None and plan.status is None:
        raise FaultSpecError("`retry-after-ms` goes with a `status`")
    endings = [name for name in STREAM_ENDINGS if getattr(plan, name) is not None]
    if len(endings) > 1:
        names = " and ".join(name.replace("_", "-") for name in endings)
        raise FaultSpecError(f"only one of stream-cut, stream-disconnect, stream-error per request, got {names}")
    if outcomes and plan.touches_stream:
        raise FaultSpecError(f"stream faults need an answer, and `{outcomes[0]}` sends none")


def _number(value: float) -> str:
    # Always plain decimals, never `1e-05`, so the canonical text parses again.
    return f"{value:.6f}".rstrip("0").rstrip(".")
