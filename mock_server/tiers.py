"""Usage tiers (0-5): which tier an API key is on.

The first rule that gives a tier wins:

1. a tier set at runtime with `POST /_mock/tiers`, per namespace;
2. the tier column of the keys file;
3. the key's name: a `-tier{N}-` part or a `-tier{N}` ending (`pplx-ci-tier0-abc` is on tier 0);
4. the `default_tier` setting.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Literal

from mock_server.auth import KeyStore

TIERS = range(6)
HIGHEST_TIER = 5
_TIER_IN_NAME = re.compile(r"-tier([0-5])(?=-|$)")

TierSource = Literal["runtime", "keys file", "key name", "default"]


class Tiers:
    def __init__(self, default: int = HIGHEST_TIER, keys: KeyStore | None = None) -> None:
        self.default = default
        self.keys = keys or KeyStore()
        self._overrides: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def tier_of(self, key: str, namespace: str = "") -> int:
        return self.resolve(key, namespace)[0]

    def resolve(self, key: str, namespace: str = "") -> tuple[int, TierSource]:
        # A single read of a dict that writers replace or update whole needs no lock (the GIL makes
        # it atomic), and the rate limiter asks on every request.
        override = self._overrides.get((namespace, key))
        if override is not None:
            return override, "runtime"
        listed = self.keys.listed.get(key) if self.keys.listed is not None else None
        if listed is not None:
            return listed, "keys file"
        named = tier_in_name(key)
        if named is not None:
            return named, "key name"
        return self.default, "default"

    def set(self, key: str, tier: int | None, namespace: str = "") -> None:
        """Put `key` on `tier` in `namespace`; None drops the runtime tier again."""
        if tier is not None and tier not in TIERS:
            raise ValueError(f"tier must be 0-5, got {tier}")
        with self._lock:
            if tier is None:
                self._overrides.pop((namespace, key), None)
            else:
                self._overrides[(namespace, key)] = tier

    def clear(self) -> None:
        with self._lock:
            self._overrides.clear()

    def reset(self, namespace: str | None) -> None:
        """Drop the runtime tiers of `namespace` (of every namespace, for None)."""
        with self._lock:
            if namespace is None:
                self._overrides.clear()
            else:
                self._overrides = {k: v for k, v in self._overrides.items() if k[0] != namespace}


@functools.lru_cache(maxsize=4096)
def tier_in_name(key: str) -> int | None:
    """The tier a key's name gives (`-tier{N}`), or None; looked up on every request, so kept."""
    named = _TIER_IN_NAME.search(key)
    return int(named.group(1)) if named is not None else None
