"""Every program in examples/ runs against a real-socket mock, exits 0 and prints what it promises."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, make_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Each example, the command that runs it, and a line its output must contain.
CASES = [
    ("sdk_sync.py", "cost: $"),
    ("sdk_async.py", "answered 3 questions concurrently"),
    ("sdk_streaming.py", "usage: "),
    ("sdk_async_job.py", ": COMPLETED"),
    ("sdk_search.py", " results"),
    ("openai_sdk.py", "citations: "),
    ("raw_httpx.py", "429, retrying in 0.2s"),
    ("curl.sh", "== search"),
    ("typescript/fetch.mjs", "search results: "),
]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(make_app()) as server:
        yield server


def command(name: str) -> list[str]:
    path = str(EXAMPLES / name)
    if name.endswith(".py"):
        return [sys.executable, path]
    if name.endswith(".sh"):
        if shutil.which("curl") is None:
            pytest.skip(reason="curl is not installed")
        return ["bash", path]
    node = shutil.which("node")
    if node is None:
        pytest.skip(reason="node is not installed: the fetch example needs Node.js 18 or newer")
    return [node, path]


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[name for name, _ in CASES])
def test_example_runs(server: LiveServer, name: str, expected: str) -> None:
    env = {
        **os.environ,
        "PERPLEXITY_BASE_URL": server.base_url,
        "PERPLEXITY_API_KEY": "pplx-examples",
        # A proxy from the environment must not catch loopback requests.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    done = subprocess.run(command(name), env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert expected in done.stdout, f"{name} printed:\n{done.stdout}"


def test_every_example_is_tested() -> None:
    programs = {
        str(path.relative_to(EXAMPLES))
        for pattern in ("*.py", "*.sh", "**/*.mjs")
        for path in EXAMPLES.glob(pattern)
        if path.name != "__init__.py"
    }
    assert programs == {name for name, _ in CASES}


def test_examples_stand_alone() -> None:
    # They are programs to copy: only public packages, nothing of this project.
    for path in EXAMPLES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for package in ("mock_server", "contract", "load", "tests"):
            assert f"import {package}" not in text and f"from {package}" not in text, f"{path.name} imports {package}"
