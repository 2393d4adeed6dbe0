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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_BASE_URL", "LoadSettings"]

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
        """The settings in force (in `environ`, default `os.environ`); `tier` and `rps` are the profile's defaults."""
        env = os.environ if environ is None else environ
        tier = int(env.get("PPLX_LOAD_TIER", tier))
        limiter = env.get("PPLX_LOAD_LIMITER", "on").strip().lower()
        if limiter not in ("on", "off"):
            raise ValueError(f"PPLX_LOAD_LIMITER must be on or off, got {limiter!r}")
        return cls(
            base_url=(env.get("PERPLEXITY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            api_key=env.get("PERPLEXITY_API_KEY") or f"pplx-load-tier{tier}",
            tier=tier,
            limiter=limiter == "on",
            headroom=float(env.get("PPLX_LOAD_HEADROOM", 0)),
            retries=int(env.get("PPLX_LOAD_RETRIES", 2)),
            concurrency=int(env.get("PPLX_LOAD_CONCURRENCY", 64)),
            rps=float(env.get("PPLX_LOAD_RPS", rps)),
            model=env.get("PPLX_LOAD_MODEL", "sonar"),
            namespace=env.get("PPLX_LOAD_NAMESPACE") or None,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Mock-Namespace": self.namespace} if self.namespace else {}
