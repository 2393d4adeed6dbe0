"""Rate limits as data: which buckets exist, and their size and refill rate on each usage tier.

A table comes from a TOML file: one of the presets shipped in `rate_limits/` (`rl-v3`, the newest
documented tables and the default; `rl-v2`, `rl-v1`, older ones; `off`) or a user's own file in
the same format, which may start from a preset with `extends = "<preset>"` and replace whole
limits. A file that cannot be used raises `LimitsError` with one line naming the file and field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PRESETS_DIR = Path(__file__).resolve().parent / "rate_limits"
DEFAULT_PRESET = "rl-v3"
TIER_COUNT = 6

PerTier = Annotated[list[Annotated[int, Field(gt=0)]], Field(min_length=TIER_COUNT, max_length=TIER_COUNT)]


class LimitsError(Exception):
    """A rate-limits file that cannot be used; the message is one line naming the file and field."""


class LimitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: PerTier
    period: float = Field(default=60.0, gt=0)
    burst: PerTier | None = None

    @field_validator("requests", "burst", mode="before")
    @classmethod
    def _same_on_every_tier(cls, value: Any) -> Any:
        # One number stands for all six tiers (`requests = 3000`).
        return [value] * TIER_COUNT if isinstance(value, int) and not isinstance(value, bool) else value


class LimitsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    extends: str | None = None
    limits: dict[str, LimitSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class Limit:
    name: str
    # Indexed by tier: tokens refilled per `period` seconds, and the bucket's capacity.
    requests: tuple[int, ...]
    period: float
    burst: tuple[int, ...]

    def capacity(self, tier: int) -> int:
        return self.burst[tier]

    def rate(self, tier: int) -> float:
        """Tokens per second."""
        return self.requests[tier] / self.period

    @property
    def same_on_every_tier(self) -> bool:
        return len(set(self.requests)) == 1 and len(set(self.burst)) == 1

    def describe(self, tier: int) -> str:
        """`50 requests per minute`, for the 429 message."""
        unit = {60.0: "minute", 1.0: "second"}.get(self.period, f"{self.period:g} seconds")
        return f"{self.requests[tier]} requests per {unit}"


@dataclass(frozen=True)
class LimitTable:
    # The preset name or file the table came from; an empty table limits nothing.
    source: str = "off"
    limits: Mapping[str, Limit] = field(default_factory=dict)

    def get(self, name: str) -> Limit | None:
        return self.limits.get(name)


def presets() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))


def load_limits(choice: str) -> LimitTable:
    """The table named by the `rate_limits` setting: a preset name, or the path of a limits file."""
    if choice in presets():
        return _load(PRESETS_DIR / f"{choice}.toml", choice)
    path = Path(choice)
    if not path.is_file():
        raise LimitsError(f"rate_limits: {choice!r} is neither a preset ({', '.join(presets())}) nor a file")
    return _load(path, str(path))


def _load(path: Path, source: str) -> LimitTable:
    where = f"rate limits file {path}"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (ValueError, RecursionError) as exc:
        # TOMLDecodeError is a ValueError; so is an integer of more digits than `int()` accepts, and
        # the parser recurses once per nested table or array.
        raise LimitsError(f"{where}: not valid TOML ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise LimitsError(f"{where}: cannot be read ({exc.strerror})") from None
    try:
        parsed = LimitsFile.model_validate(data)
    except ValidationError as exc:
        raise LimitsError(f"{where}: {_describe(exc.errors()[0])}") from None
    limits: dict[str, Limit] = {}
    if parsed.extends is not None:
        # Presets never extend, so this cannot loop.
        if parsed.extends not in presets():
            raise LimitsError(f"{where}: extends: not a preset (presets: {', '.join(presets())})")
        limits.update(load_limits(parsed.extends).limits)
    for name, spec in parsed.limits.items():
        burst = spec.burst if spec.burst is not None else spec.requests
        limits[name] = Limit(name, tuple(spec.requests), spec.period, tuple(burst))
    return LimitTable(source, limits)


def _describe(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown field {field!r}"
    return f"{field}: {error['msg']} (got {error.get('input')!r})"
