"""Default faults and seeded chaos, per namespace.

A namespace's configuration (`POST /_mock/faults`, else the `faults` and `chaos` settings) holds a
default fault for every API request, and chaos rates: `{"<fault spec>": probability}`, summing to
at most 1. Each API request draws once from the namespace's `random.Random`, seeded from the
seed (the `seed` setting, or the one posted) and the namespace's name, so the same seed and the
same sequence of requests give the same faults; latency ranges draw from it too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from mock_server.errors import quoted
from mock_server.faults import FaultPlan, FaultSpecError, parse_fault

Rates = list[tuple[FaultPlan, float]]


@dataclass
class ChaosConfig:
    seed: int
    namespace: str
    default: FaultPlan | None = None
    rates: Rates = field(default_factory=list)
    draws: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        # A str seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED; and each
        # namespace gets its own sequence.
        self.rng = random.Random(f"{self.seed}/{self.namespace}")

    def draw(self) -> FaultPlan | None:
        """One request's chaos: each spec with its rate, in the order given, else nothing."""
        self.draws += 1
        roll = self.rng.random()
        for plan, rate in self.rates:
            if roll < rate:
                return plan
            roll -= rate
        return None

    def view(self) -> dict[str, object]:
        return {
            "default": self.default.spec if self.default is not None else None,
            "chaos": {plan.spec: rate for plan, rate in self.rates},
            "seed": self.seed,
            "draws": self.draws,
        }


class ChaosStore:
    def __init__(self, seed: int, default: FaultPlan | None = None, rates: Rates | None = None) -> None:
        # What a namespace starts with: the settings.
        self._seed = seed
        self._default = default
        self._rates = rates or []
        self._configs: dict[str, ChaosConfig] = {}

    def configure(self, namespace: str, default: FaultPlan | None, rates: Rates, seed: int | None) -> ChaosConfig:
        config = ChaosConfig(self._seed if seed is None else seed, namespace, default, rates)
        self._configs[namespace] = config
        return config

    def config(self, namespace: str) -> ChaosConfig:
        config = self._configs.get(namespace)
        if config is None:
            config = self._configs[namespace] = ChaosConfig(self._seed, namespace, self._default, list(self._rates))
        return config

    def reset(self, namespace: str | None) -> None:
        """Back to the settings' configuration, freshly seeded."""
        if namespace is None:
            self._configs.clear()
        else:
            self._configs.pop(namespace, None)


def parse_rates(raw: Mapping[str, object]) -> Rates:
    rates: Rates = []
    for spec, rate in raw.items():
        try:
            plan = parse_fault(spec)
        except FaultSpecError as exc:
            raise FaultSpecError(f"chaos {quoted(spec)}: {exc}") from None
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not (0 <= rate <= 1 and math.isfinite(rate)):
            raise FaultSpecError(
                f"chaos {quoted(spec)}: the rate must be a probability from 0 to 1, got {quoted(rate)}"
            )
        rates.append((plan, float(rate)))
    if sum(rate for _, rate in rates) > 1 + 1e-9:
        raise FaultSpecError("chaos rates add up to more than 1")
    return rates
