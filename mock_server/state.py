"""What one running mock holds: settings, accepted keys, fixtures, the clock, live stream count."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_server.auth import KeyStore
from mock_server.clock import Clock
from mock_server.fixtures import FixtureStore
from mock_server.jobs import JobStore
from mock_server.settings import Settings


@dataclass
class MockState:
    settings: Settings
    keys: KeyStore
    fixtures: FixtureStore
    clock: Clock
    jobs: JobStore = field(default_factory=JobStore)
    open_streams: int = 0
