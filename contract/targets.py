"""What the contract suite tests: the OpenAPI document, its schemathesis settings, and the target.

A `Target` is one API under test, reached through a `requests` session at a base URL and called
with a key. Two factories return one: the mock served in-process over ASGI (no socket, the
default) and any base URL with a key (`--target URL`, chosen in `contract/conftest.py`); the
tests do not change. A live target carries the run's `Budget`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from starlette.applications import Starlette

from contract.live import Budget
from contract.spec import SPEC_PATH
from mock_server import create_app
from mock_server.settings import load_settings

CONFIG_PATH = Path(__file__).with_name("schemathesis.toml")

# Any `pplx-` key is valid on the mock.
MOCK_KEY = "pplx-contract"

# The mock's settings for the suite, in its documented `MOCK_*` form (the process environment is
# not read).
MOCK_ENVIRONMENT = {
    # No simulated delays.
    "MOCK_TIME_SCALE": "0",
    # Rate limits are not what the suite checks, and its thousands of requests on one key would
    # otherwise mostly be answered 429 and check nothing else.
    "MOCK_RATE_LIMITS": "off",
}


@dataclass(frozen=True)
class Target:
    """One API under test."""

    name: str
    base_url: str
    # Carries no credentials of its own: every call says which key it sends, if any.
    session: requests.Session
    api_key: str
    # Set for a live target: what the run may still spend.
    budget: Budget | None = None

    @property
    def live(self) -> bool:
        return self.budget is not None

    def auth_headers(self) -> dict[str, str]:
        return bearer(self.api_key)

    def call_kwargs(self) -> dict[str, Any]:
        """Transport arguments for `Case.call`: where and how to send a request."""
        return {"base_url": self.base_url, "session": self.session}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def load_config(live_examples: int | None = None) -> SchemathesisConfig:
    """The suite's settings; with `live_examples`, bounded for a paid API (no coverage phase)."""
    if live_examples is None:
        return SchemathesisConfig.from_path(CONFIG_PATH)
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data.setdefault("generation", {})["max-examples"] = live_examples
    # The coverage phase sends every boundary case of every field: hundreds of calls an operation.
    data.setdefault("phases", {})["coverage"] = {"enabled": False}
    return SchemathesisConfig.from_dict(data)


def load_schema(live_examples: int | None = None) -> schemathesis.BaseSchema:
    """The generated document (`contract/openapi.yaml`) with the suite's schemathesis settings."""
    return schemathesis.openapi.from_path(SPEC_PATH, config=load_config(live_examples))


def mock_app() -> Starlette:
    """A fresh mock with the suite's settings and the starter fixtures."""
    return create_app(load_settings(environ=MOCK_ENVIRONMENT))


@contextmanager
def in_process_mock() -> Iterator[Target]:
    """The mock served in-process through schemathesis' ASGI client (runs its lifespan, if any)."""
    # The client reads a stream up to its own event limit, whatever the config says: pass it on.
    max_stream_events = load_config().projects.get_default().max_stream_events_for()
    # schemathesis types ASGI apps with `dict` scopes; Starlette's are `MutableMapping`s (same thing at run time).
    with asgi.get_client(mock_app(), max_stream_events=max_stream_events) as client:  # type: ignore[arg-type]
        yield Target(name="in-process mock", base_url=client.base_url, session=client, api_key=MOCK_KEY)


@contextmanager
def remote(base_url: str, api_key: str, budget: Budget) -> Iterator[Target]:
    """Any running API at `base_url` (the real one, or a mock on a socket), called with `api_key`."""
    with requests.Session() as session:
        yield Target(name=base_url, base_url=base_url.rstrip("/"), session=session, api_key=api_key, budget=budget)
