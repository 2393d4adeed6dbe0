"""Fixtures of the contract suite: the target every contract test sends its requests to.

The target is built here and only here. Running the same checks against a real base URL is a
matter of choosing another factory in `contract_target` (e.g. from a `--target URL` option).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract.targets import Target, in_process_mock


@pytest.fixture(scope="session")
def contract_target() -> Iterator[Target]:
    # Session-scoped: Hypothesis runs many examples per test and must not see a function-scoped
    # fixture. One mock serves the whole suite: what a test leaves behind (async jobs) does not
    # change what another checks.
    with in_process_mock() as target:
        yield target
