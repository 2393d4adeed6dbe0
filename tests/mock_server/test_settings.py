"""Settings precedence (defaults < config file < env < flags) and one-line errors naming the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.settings import Settings, SettingsError, load_settings


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.time_scale, settings.seed) == ("127.0.0.1", 8000, 1.0, 0)


def test_precedence(tmp_path: Path) -> None:
    path = config(tmp_path, "port = 9001\nseed = 3\ntime_scale = 0.5\n")
    settings = load_settings({"seed": 7}, environ={"MOCK_TIME_SCALE": "0.25"}, config_file=path)
    assert (settings.port, settings.time_scale, settings.seed) == (9001, 0.25, 7)


def test_config_file_from_env(tmp_path: Path) -> None:
    path = config(tmp_path, "[models.sonar]\ntime_to_first_token = 0.1\ntokens_per_second = 500\n")
    settings = load_settings(environ={"MOCK_CONFIG": str(path)})
    assert settings.time_to_first_token("sonar") == 0.1 and settings.tokens_per_second("sonar") == 500
    assert settings.time_to_first_token("sonar-pro") == Settings().time_to_first_token("sonar-pro")


@pytest.mark.parametrize(
    ("text", "environ", "flags", "expected"),
    [
        ("time_scale = -1\n", {}, {}, "config file {path}: time_scale: Input should be greater than or equal to 0"),
        ("colour = 'red'\n", {}, {}, "config file {path}: unknown setting 'colour'"),
        ("[models.gpt-4]\ntokens_per_second = 1\n", {}, {}, "config file {path}: models: Value error, unknown model"),
        ("", {"MOCK_PORT": "eighty"}, {}, "environment: port: Input should be a valid integer"),
        ("", {}, {"time_scale": -2.0}, "command line: time_scale: Input should be greater than or equal to 0"),
        ("port = [", {}, {}, "config file {path}: not valid TOML"),
    ],
)
def test_errors_name_source_and_field(
    tmp_path: Path, text: str, environ: dict[str, str], flags: dict[str, object], expected: str
) -> None:
    path = config(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, environ=environ, config_file=path)
    assert str(caught.value).startswith(expected.format(path=path))
    assert "\n" not in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(environ={}, config_file=tmp_path / "absent.toml")
