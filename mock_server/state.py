"""What one running mock holds: settings, keys, fixtures, the search corpus, the clock, jobs, live streams."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_server.auth import KeyStore
from mock_server.bucket import RateLimiter
from mock_server.clock import Clock
from mock_server.corpus import Corpus
from mock_server.fixtures import FixtureStore
from mock_server.jobs import JobStore
from mock_server.limits import LimitTable
from mock_server.settings import Settings
from mock_server.tiers import Tiers


@dataclass
class MockState:
    settings: Settings
    keys: KeyStore
    fixtures: FixtureStore
    clock: Clock
    corpus: Corpus = field(default_factory=Corpus)
    jobs: JobStore = field(default_factory=JobStore)
    open_streams: int = 0
    # Rate limits: the table (empty unless create_app loads one), each key's tier, the buckets.
    limits: LimitTable = field(default_factory=LimitTable)
    tiers: Tiers = field(init=False)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.tiers = Tiers(self.settings.default_tier, self.keys)
        # The buckets refill by the mock's clock, so advancing it refills them too.
        self.limiter = RateLimiter(self.clock)
