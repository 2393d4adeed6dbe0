"""What one running mock holds: settings, keys, fixtures, the search corpus, the clock, jobs, live streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.requests import Request

from mock_server.answer_cache import AnswerCache
from mock_server.auth import KeyStore
from mock_server.body import BodyCache
from mock_server.bucket import RateLimiter
from mock_server.chaos import ChaosStore, parse_rates
from mock_server.clock import Clock
from mock_server.corpus import Corpus
from mock_server.faults import parse_fault
from mock_server.fixtures import FixtureStore
from mock_server.jobs import JobStore
from mock_server.journal import Journal
from mock_server.limits import LimitTable
from mock_server.scenarios import ScenarioStore
from mock_server.settings import Settings
from mock_server.tiers import Tiers


class Resettable(Protocol):
    """A store `POST /_mock/reset` empties: for one namespace ("" is the default one), or all (None)."""

    def reset(self, namespace: str | None) -> None: ...


@dataclass
class MockState:
    settings: Settings
    keys: KeyStore
    fixtures: FixtureStore
    clock: Clock
    corpus: Corpus = field(default_factory=Corpus)
    jobs: JobStore = field(default_factory=JobStore)
    answers: AnswerCache = field(default_factory=AnswerCache)
    bodies: BodyCache = field(default_factory=BodyCache)
    open_streams: int = 0
    # Rate limits: the table (empty unless create_app loads one), each key's tier, the buckets.
    limits: LimitTable = field(default_factory=LimitTable)
    tiers: Tiers = field(init=False)
    limiter: RateLimiter = field(init=False)
    journal: Journal = field(init=False)
    # Stores beyond the built-in ones (journal, buckets, runtime tiers, jobs) that `reset` empties
    # too: another feature registers its own here in create_app, e.g. the fault scenarios.
    resettables: list[Resettable] = field(default_factory=list)
    # Faults: scripted steps per key, and per-namespace default faults and seeded chaos.
    scenarios: ScenarioStore = field(default_factory=ScenarioStore)
    chaos: ChaosStore = field(init=False)

    def __post_init__(self) -> None:
        self.tiers = Tiers(self.settings.default_tier, self.keys)
        # The buckets refill by the mock's clock, so advancing it refills them too.
        self.limiter = RateLimiter(self.clock)
        self.journal = Journal(self.settings.journal_size)
        default = parse_fault(self.settings.faults) if self.settings.faults is not None else None
        self.chaos = ChaosStore(self.settings.seed, default, parse_rates(self.settings.chaos))

    def reset(self, namespace: str | None) -> None:
        """Forget what `namespace` (every namespace, for None) has done: as if its tests had not run."""
        stores: list[Resettable] = [self.journal, self.limiter, self.tiers, self.jobs, *self.resettables]
        for store in stores:
            store.reset(namespace)


def mock_state(request: Request) -> MockState:
    """The state of the mock that serves `request`: what `app.state.mock` holds, read from the plain
    attribute `MockApp.mock_state` (app.py). Every read through Starlette's `State` raises and catches
    an AttributeError before it finds the name (0.7 µs), and each API request reads it."""
    state: MockState = request.app.mock_state
    return state
