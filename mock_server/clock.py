"""The mock's notion of "now": real wall time plus an offset the control plane can advance.

Everything that reports or compares times (`created`, job lifecycles, rate-limit refills, result
dates) reads this clock, so tests move time forward instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(self, source: Callable[[], float] = time.time, offset: float = 0.0) -> None:
        self._source = source
        self._offset = offset

    def time(self) -> float:
        return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0
