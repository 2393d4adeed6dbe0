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
        # NaN fails `ge=0`; infinity passed it, and an infinite delay hung every request.
        ("", {}, {"time_scale": float("inf")}, "command line: time_scale: Input should be a finite number"),
        ("", {"MOCK_TIME_SCALE": "1e309"}, {}, "environment: time_scale: Input should be a finite number"),
        ("time_scale = inf\n", {}, {}, "config file {path}: time_scale: Input should be a finite number"),
        (
            "[models.sonar]\ntime_to_first_token = inf\n",
            {},
            {},
            "config file {path}: models.sonar.time_to_first_token: Input should be a finite number",
        ),
        (
            "[models.sonar]\ntokens_per_second = inf\n",
            {},
            {},
            "config file {path}: models.sonar.tokens_per_second: Input should be a finite number",
        ),
        ("", {"MOCK_JOB_QUEUE_SECONDS": "inf"}, {}, "environment: job_queue_seconds: Input should be a finite"),
        ("", {"MOCK_JOB_RESEARCH_SECONDS": "inf"}, {}, "environment: job_research_seconds: Input should be a finite"),
        ("", {"MOCK_SEARCH_SECONDS": "inf"}, {}, "environment: search_seconds: Input should be a finite number"),
        ("", {"MOCK_FAULT_HANG_SECONDS": "inf"}, {}, "environment: fault_hang_seconds: Input should be a finite"),
        ("", {}, {"time_scale": float("nan")}, "command line: time_scale: Input should be a finite number"),
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


@pytest.mark.parametrize(
    "chaos",
    [
        "[" * 2000 + "]" * 2000,  # exhausted json's stack: RecursionError
        '{"500": ' + "1" * 5000 + "}",  # more digits than int() takes: a plain ValueError
    ],
)
def test_chaos_json_past_the_parser_s_limits_is_one_line(chaos: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"MOCK_CHAOS": chaos})
    message = str(caught.value)
    assert message.startswith('environment: chaos: Value error, must be a JSON object {"<fault spec>": rate}')
    assert len(message) < 200, "the value is quoted, not repeated in full"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"seed = 1 # caf\xe9\n", "config file {path}: not valid UTF-8 (invalid continuation byte at byte 14)"),
        (b"seed = " + b"1" * 5000 + b"\n", "config file {path}: not valid TOML (Exceeds the limit (4300 digits)"),
        (b"x = " + b"[" * 2000 + b"]" * 2000 + b"\n", "config file {path}: not valid TOML (maximum recursion depth"),
    ],
)
def test_config_files_past_the_parser_s_limits(tmp_path: Path, text: bytes, expected: str) -> None:
    path = tmp_path / "mock.toml"
    path.write_bytes(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={}, config_file=path)
    assert str(caught.value).startswith(expected.format(path=path))


@pytest.mark.parametrize(("setting", "what"), [("keys_file", "keys file"), ("rate_limits", "rate limits file")])
def test_named_files_must_be_utf8(tmp_path: Path, setting: str, what: str) -> None:
    path = tmp_path / "latin-1.txt"
    path.write_bytes(b"# caf\xe9\npplx-key\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({setting: str(path)}, environ={})
    assert str(caught.value) == f"{what} {path}: not valid UTF-8 (invalid continuation byte at byte 5)"
