"""Fixtures of the contract suite: the target every contract test sends its requests to.

The target is built here and only here: the in-process mock by default, or any base URL with
`--target URL` and the key in `PERPLEXITY_API_KEY` (a live run: every contract test gets the
`live` marker, bounded examples and a spending cap). Without a key a live run skips, with one
reason for the whole session; `--dry-run` prints the planned calls and sends nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from contract import live
from contract.spec import load_spec
from contract.targets import Target, in_process_mock, remote

KEY_VARIABLE = "PERPLEXITY_API_KEY"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suite target (contract/)")
    group.addoption(
        "--target", metavar="URL", help="run the contract suite against this base URL (key from PERPLEXITY_API_KEY)"
    )
    group.addoption(
        "--dry-run", action="store_true", help="with --target: print the planned calls and their cost, send nothing"
    )
    group.addoption(
        "--max-cost",
        type=float,
        default=live.DEFAULT_MAX_COST,
        metavar="USD",
        help=f"with --target: skip what is left before the billed total passes this (default {live.DEFAULT_MAX_COST})",
    )
    group.addoption(
        "--allow-expensive", action="store_true", help="with --target: also create async (deep research) jobs"
    )
    group.addoption(
        "--live-examples",
        type=int,
        default=live.DEFAULT_EXAMPLES,
        metavar="N",
        help=f"with --target: generated cases per operation (default {live.DEFAULT_EXAMPLES})",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Before collection: contract/test_mock.py sizes its generated cases from the run at import.
    base_url = config.getoption("--target", default=None)
    live.configure(
        live.LiveRun(
            base_url=base_url,
            api_key=os.environ.get(KEY_VARIABLE) or None,
            dry_run=bool(config.getoption("--dry-run", default=False)),
            max_cost=config.getoption("--max-cost", default=live.DEFAULT_MAX_COST),
            allow_expensive=bool(config.getoption("--allow-expensive", default=False)),
            max_examples=config.getoption("--live-examples", default=live.DEFAULT_EXAMPLES),
        )
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not live.current().live:
        return
    for item in items:
        if "contract_target" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)


def skip_reason(run: live.LiveRun) -> str | None:
    if run.base_url is None:
        return None
    if run.dry_run:
        return f"live contract run: dry run, nothing sent to {run.base_url} (the plan is printed below)"
    if not run.api_key:
        return f"live contract run: set {KEY_VARIABLE} to call {run.base_url}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Raised here rather than in the fixture, so that every test reports the same location and
    # the summary shows one line for the whole session.
    reason = skip_reason(live.current())
    if reason and "contract_target" in getattr(item, "fixturenames", ()):
        pytest.skip(reason=reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    run = live.current()
    if not run.live:
        return
    if run.dry_run:
        terminalreporter.write_line(live.render_plan(live.plan(load_spec(), run), run))
    elif run.api_key:
        budget = run.budget
        terminalreporter.write_line(
            f"live contract run: {budget.calls} billed calls, ${budget.spent:.5f} of --max-cost ${budget.max_cost:.5f}"
        )


@pytest.fixture(scope="session")
def contract_target() -> Iterator[Target]:
    # Session-scoped: Hypothesis runs many examples per test and must not see a function-scoped
    # fixture. One target serves the whole suite: what a test leaves behind (async jobs) does not
    # change what another checks. A skip here is raised once and reported as one line.
    run = live.current()
    if run.base_url is None:
        with in_process_mock() as target:
            yield target
        return
    # pytest_runtest_setup skipped every test that would get here without a key, or in a dry run.
    assert run.api_key and not run.dry_run
    with remote(run.base_url, run.api_key, run.budget) as target:
        yield target
