"""The pytest plugin (entry point `pplx_mock`, loaded by pytest once pplx-mock is installed).

Fixtures: `perplexity_mock` (a live mock on a loopback port: one server per session, or per xdist
worker, reset before each test) and `perplexity_mock_asgi` (a fresh in-process app per test).
The marker `@pytest.mark.perplexity_mock(seed=3, time_scale=0, fixtures="dir", tier=0, ...)` gives a
test its own server with those settings; `tier` instead gives the test's `api_key` that tier.
`--pplx-mock-report PATH` writes, as JSON, which fixtures answered and which requests were synthesized.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.settings import Settings, SettingsError, load_settings
from mock_server.testing import AsgiPerplexityMock, MockHandle, PerplexityMock, ServerThread

MARKER = "perplexity_mock"
REPORT_KEY = "pplx_mock_report"
# Tests want answers at once; a test that studies timing asks for `time_scale=1`.
TEST_DEFAULTS: dict[str, Any] = {"time_scale": 0}
_records = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pplx-mock", "Perplexity API mock")
    group.addoption(
        "--pplx-mock-report",
        metavar="PATH",
        default=None,
        help="write which fixtures answered and which requests were synthesized (JSON)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(tier=N, **settings): this test's mock settings (seed, time_scale, fixtures, ...) "
        "on a server of its own; tier sets the usage tier of perplexity_mock.api_key",
    )
    config.stash[_records] = []


def mock_settings(options: dict[str, Any], base: Path) -> Settings:
    """The settings a marker asks for, over the test defaults; `fixtures` relative to `base`."""
    options = {**TEST_DEFAULTS, **options}
    if isinstance(options.get("fixtures"), str | Path):
        options["fixtures"] = base / options["fixtures"]
    try:
        return load_settings(options, environ={})
    except SettingsError as exc:
        problem = str(exc).removeprefix("command line: ")
    pytest.fail(f"@pytest.mark.{MARKER}: {problem}", pytrace=False)


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    options: dict[str, Any] = {}
    # Closest marker last, so a function's marker overrides its module's or class's.
    for marker in reversed(list(node.iter_markers(MARKER))):
        if marker.args:
            pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only", pytrace=False)
        options.update(marker.kwargs)
    return options


@pytest.fixture(scope="session")
def perplexity_mock_server() -> Iterator[ServerThread]:
    """The session's shared live mock (under pytest-xdist, each worker process has its own)."""
    server = ServerThread(Settings(**TEST_DEFAULTS)).start()
    yield server
    server.stop()


@pytest.fixture
def perplexity_mock(request: pytest.FixtureRequest) -> Iterator[PerplexityMock]:
    """A live mock on a loopback port, its namespace reset before the test."""
    options = _marker_options(request.node)
    tier = options.pop("tier", None)
    own = ServerThread(mock_settings(options, request.path.parent)).start() if options else None
    server = own or request.getfixturevalue("perplexity_mock_server")
    mock = PerplexityMock(server.base_url)
    try:
        mock.reset()
        if tier is not None:
            mock.set_tier(mock.api_key, tier)
        yield mock
        _record(request, mock)
    finally:
        mock.close()
        if own is not None:
            own.stop()


@pytest.fixture
def perplexity_mock_asgi(request: pytest.FixtureRequest) -> Iterator[AsgiPerplexityMock]:
    """A fresh in-process mock (httpx ASGITransport, async clients only; no real streaming or sockets)."""
    from mock_server.app import create_app

    options = _marker_options(request.node)
    tier = options.pop("tier", None)
    mock = AsgiPerplexityMock(create_app(mock_settings(options, request.path.parent)))
    if tier is not None:
        mock.set_tier(mock.api_key, tier)
    yield mock
    _record(request, mock)


def _record(request: pytest.FixtureRequest, mock: MockHandle) -> None:
    if request.config.getoption("pplx_mock_report") is None:
        return
    for entry in mock.requests():
        request.config.stash[_records].append(
            {
                "test": request.node.nodeid,
                **{name: entry[name] for name in ("method", "path", "model", "status", "fixture", "synthesized")},
            }
        )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    # pytest-xdist: the controller collects what each worker saw.
    output = getattr(node, "workeroutput", {}).get(REPORT_KEY)
    if output:
        node.config.stash[_records].extend(json.loads(output))


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        config.workeroutput[REPORT_KEY] = json.dumps(config.stash[_records])  # type: ignore[attr-defined]
        return
    path = config.getoption("pplx_mock_report")
    if path is not None:
        Path(path).write_text(json.dumps(build_report(config.stash[_records]), indent=2) + "\n", encoding="utf-8")


def build_report(records: list[dict[str, Any]]) -> dict[str, Any]:
    """`fixtures`: each fixture that answered, with its request count and tests; `synthesized`: the rest."""
    fixtures: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["fixture"] is not None:
            used = fixtures.setdefault(record["fixture"], {"requests": 0, "tests": []})
            used["requests"] += 1
            if record["test"] not in used["tests"]:
                used["tests"].append(record["test"])
    synthesized = [
        {name: record[name] for name in ("test", "method", "path", "model", "status")}
        for record in records
        if record["synthesized"]
    ]
    return {
        "requests": len(records),
        "fixtures": dict(sorted(fixtures.items())),
        "synthesized": synthesized,
    }
