"""What a load run tunes, read from `PPLX_LOAD_*` variables; no Locust import, so the runner can use it.

| Variable | Default | Meaning |
|---|---|---|
| `PERPLEXITY_BASE_URL` | `http://127.0.0.1:8000` | the target (the mock on loopback) |
| `PERPLEXITY_API_KEY` | `pplx-load-tier{T}` | the key; the mock reads the tier from such a name |
| `PPLX_LOAD_TIER` | per profile (5; burst 0) | the usage tier the client paces for (RL-V3 table) |
| `PPLX_LOAD_LIMITER` | `on` | `off`: the client sends at once and meets the server's 429s |
| `PPLX_LOAD_HEADROOM` | `0` | pace this fraction below the tier's rate (`0.05`: 5 % slower) |
| `PPLX_LOAD_RETRIES` | `2` | the client's `RetryPolicy.max_retries` |
| `PPLX_LOAD_CONCURRENCY` | `64` | the client's `max_concurrency` (one client per Locust process) |
| `PPLX_LOAD_RPS` | per profile | task runs a second per user (`0`: back to back) |
| `PPLX_LOAD_MODEL` | `sonar` | the chat model |
| `PPLX_LOAD_NAMESPACE` | none | sent as `X-Mock-Namespace`, so a run has its own buckets on a shared mock |

An empty variable counts as unset. A value that cannot apply raises `ValueError` naming the variable,
so the runner refuses it before Locust starts rather than every user crashing on it during the run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

__all__ = ["DEFAULT_BASE_URL", "LoadSettings"]

T = TypeVar("T", int, float)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class LoadSettings:
    base_url: str
    api_key: str
    tier: int
    limiter: bool
    headroom: float
    retries: int
    concurrency: int
    rps: float
    model: str
    namespace: str | None

    @classmethod
    def from_env(cls, *, tier: int = 5, rps: float = 1.0, environ: Mapping[str, str] | None = None) -> LoadSettings:
        """The settings in force (in `environ`, default `os.environ`); `tier` and `rps` are the profile's defaults.

        Raises:
            ValueError: A variable's value is not one the run can use (`PPLX_LOAD_TIER=9`).
        """
        env = os.environ if environ is None else environ
        tier = _integer(env, "PPLX_LOAD_TIER", tier, low=0, high=5)
        limiter = env.get("PPLX_LOAD_LIMITER", "on").strip().lower() or "on"
        if limiter not in ("on", "off"):
            raise ValueError(f"PPLX_LOAD_LIMITER must be on or off, got {limiter!r}")
        base_url = (env.get("PERPLEXITY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PERPLEXITY_BASE_URL must be an http:// or https:// URL, got {base_url!r}")
        return cls(
            base_url=base_url,
            api_key=env.get("PERPLEXITY_API_KEY") or f"pplx-load-tier{tier}",
            tier=tier,
            limiter=limiter == "on",
            # 1 or more would pace at no rate at all.
            headroom=_number(env, "PPLX_LOAD_HEADROOM", 0.0, low=0.0, below=1.0),
            retries=_integer(env, "PPLX_LOAD_RETRIES", 2, low=0),
            concurrency=_integer(env, "PPLX_LOAD_CONCURRENCY", 64, low=1),
            rps=_number(env, "PPLX_LOAD_RPS", rps, low=0.0),
            model=env.get("PPLX_LOAD_MODEL") or "sonar",
            namespace=env.get("PPLX_LOAD_NAMESPACE") or None,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Mock-Namespace": self.namespace} if self.namespace else {}


def _integer(env: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None) -> int:
    expected = f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    return _parsed(env, name, default, int, lambda value: low <= value and (high is None or value <= high), expected)


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, below: float | None = None) -> float:
    expected = f"a number from {low:g} to under {below:g}" if below is not None else f"a number of at least {low:g}"
    # float() also reads "nan" and "inf", which the comparisons alone would not refuse.
    return _parsed(
        env,
        name,
        default,
        float,
        lambda value: math.isfinite(value) and low <= value and (below is None or value < below),
        expected,
    )


def _parsed(
    env: Mapping[str, str],
    name: str,
    default: T,
    convert: Callable[[str], T],
    allowed: Callable[[T], bool],
    expected: str,
) -> T:
    """The variable `name` converted and checked (`default` when unset or empty), or a ValueError
    naming it and what it must be."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = convert(text)
    except ValueError:
        raise ValueError(f"{name} must be {expected}, got {text!r}") from None
    if not allowed(value):
        raise ValueError(f"{name} must be {expected}, got {text!r}")
    return value
