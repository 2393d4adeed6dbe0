"""The README documents every flag, config key and env var; the CHANGELOG's latest version is the package's."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

import mock_server
from mock_server.cli import build_parser
from mock_server.settings import CONFIG_ENV_VAR, ENV_VARS, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def serve_flags() -> list[str]:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    return [flag for action in serve._actions for flag in action.option_strings if flag.startswith("--")]


@pytest.mark.parametrize("flag", [f for f in serve_flags() if f != "--help"])
def test_every_serve_flag_is_documented(flag: str) -> None:
    assert re.search(rf"`{re.escape(flag)}[` ]", README), f"README.md does not document `{flag}`"


@pytest.mark.parametrize("key", sorted(Settings.model_fields))
def test_every_config_key_is_documented(key: str) -> None:
    # A table of per-name settings is documented as `[key.<name>]`.
    assert f"`{key}`" in README or f"`[{key}." in README, f"README.md does not document the config key `{key}`"


@pytest.mark.parametrize("var", sorted([*ENV_VARS, CONFIG_ENV_VAR]))
def test_every_env_var_is_documented(var: str) -> None:
    assert f"`{var}`" in README, f"README.md does not document `{var}`"


def test_the_changelog_s_latest_version_is_the_package_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    latest = re.search(r"^## \[(\d+\.\d+\.\d+[^\]]*)\]", changelog, re.MULTILINE)
    assert latest is not None, "CHANGELOG.md has no `## [X.Y.Z]` section"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert latest.group(1) == pyproject["project"]["version"] == mock_server.__version__
