"""Rate limits as data: the presets hold the documented tables; a user's file is checked line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.cli import main
from mock_server.limits import DEFAULT_PRESET, LimitsError, load_limits, presets
from mock_server.settings import Settings, load_settings
from tests.conftest import make_app


def requests_per_tier(preset: str, name: str) -> tuple[int, ...]:
    limit = load_limits(preset).get(name)
    assert limit is not None
    return limit.requests


def test_presets_and_default() -> None:
    assert presets() == ["off", "rl-v1", "rl-v2", "rl-v3"]
    assert DEFAULT_PRESET == Settings().rate_limits == "rl-v3"
    assert load_limits("off").limits == {}


def test_rl_v3_is_the_newest_table() -> None:
    table = load_limits("rl-v3")
    for model in ("sonar", "sonar-pro", "sonar-reasoning-pro"):
        assert requests_per_tier("rl-v3", model) == (50, 150, 500, 1000, 4000, 4000)
    for name in ("sonar-deep-research", "async-create"):
        assert requests_per_tier("rl-v3", name) == (5, 10, 20, 40, 60, 100)
    assert requests_per_tier("rl-v3", "async-list") == (3000,) * 6
    assert requests_per_tier("rl-v3", "async-get") == (6000,) * 6
    sonar, search = table.get("sonar"), table.get("search")
    assert sonar is not None and search is not None
    # Per minute, burst = the per-minute figure; search: 50 a second, burst 50, on every tier.
    assert (sonar.period, sonar.capacity(0), sonar.rate(0)) == (60, 50, 50 / 60)
    assert (search.period, search.burst, search.rate(0), search.rate(5)) == (1, (50,) * 6, 50, 50)
    assert sonar.describe(0) == "50 requests per minute" and search.describe(3) == "50 requests per second"


def test_older_tables_are_presets() -> None:
    assert requests_per_tier("rl-v2", "sonar") == (50, 50, 500, 1000, 2000, 2000)
    assert requests_per_tier("rl-v2", "sonar-deep-research") == (5, 10, 20, 40, 60, 100)
    search = load_limits("rl-v2").get("search")
    assert search is not None and (search.rate(0), search.capacity(0)) == (3, 3)
    assert requests_per_tier("rl-v1", "sonar-deep-research") == (5, 5, 5, 5, 5, 100)
    # RL-V1 predates the async and Search APIs: those are not limited.
    assert load_limits("rl-v1").get("search") is None and load_limits("rl-v1").get("async-create") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "limits.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_custom_file_may_extend_a_preset(tmp_path: Path) -> None:
    text = 'extends = "rl-v3"\n[limits.sonar]\nrequests = 2\nperiod = 0.5\nburst = [1, 2, 3, 4, 5, 6]\n'
    path = write(tmp_path, text)
    table = load_limits(str(path))
    sonar = table.get("sonar")
    assert sonar is not None and (sonar.rate(0), sonar.capacity(0), sonar.capacity(5)) == (4, 1, 6)
    assert table.get("sonar-pro") == load_limits("rl-v3").get("sonar-pro")
    assert table.source == str(path)
    alone = load_limits(str(write(tmp_path, "[limits.sonar]\nrequests = 7\n")))
    assert list(alone.limits) == ["sonar"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[limits.sonar]\nrequests = 0\n", "limits.sonar.requests.0: Input should be greater than 0 (got 0)"),
        ("[limits.sonar]\nrequests = [1, 2]\n", "limits.sonar.requests: List should have at least 6 items"),
        ("[limits.sonar]\nperiod = 60\n", "limits.sonar.requests: Field required"),
        ("[limits.sonar]\nrequests = 5\nperiod = -1\n", "limits.sonar.period: Input should be greater than 0"),
        ("[limits.sonar]\nrequests = 5\nrate = 3\n", "unknown field 'limits.sonar.rate'"),
        ('extends = "rl-v9"\n', "extends: not a preset (presets: off, rl-v1, rl-v2, rl-v3)"),
        ("[limits\n", "not valid TOML"),
        ("[limits.sonar]\nrequests = " + "9" * 5000 + "\n", "not valid TOML"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML"),
    ],
    ids=[
        "requests-0",
        "short-list",
        "no-requests",
        "negative-period",
        "unknown-field",
        "bad-extends",
        "syntax",
        "huge-integer",
        "deep-nesting",
    ],
)
def test_bad_files_give_one_line_naming_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LimitsError) as caught:
        load_limits(str(path))
    message = str(caught.value)
    assert message.startswith(f"rate limits file {path}: {expected}") and "\n" not in message


def test_neither_preset_nor_file(tmp_path: Path) -> None:
    with pytest.raises(LimitsError, match=r"^rate_limits: 'rl-v9' is neither a preset \(off, rl-v1, rl-v2, rl-v3\)"):
        load_limits("rl-v9")
    with pytest.raises(LimitsError, match="neither a preset"):
        load_limits(str(tmp_path))


def test_the_setting_comes_from_env_config_and_flag(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('rate_limits = "rl-v1"\ndefault_tier = 0\n', encoding="utf-8")
    settings = load_settings(environ={"MOCK_CONFIG": str(config)})
    assert (settings.rate_limits, settings.default_tier) == ("rl-v1", 0)
    settings = load_settings(environ={"MOCK_CONFIG": str(config), "MOCK_RATE_LIMITS": "rl-v2"})
    assert settings.rate_limits == "rl-v2"
    assert load_settings({"rate_limits": "off"}, environ={"MOCK_RATE_LIMITS": "rl-v2"}).rate_limits == "off"
    assert make_app(rate_limits="rl-v2").state.mock.limits.source == "rl-v2"


def test_create_app_and_the_cli_report_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[limits.sonar]\nrequests = -3\n")
    with pytest.raises(LimitsError, match=r"limits\.sonar\.requests\.0"):
        make_app(rate_limits=str(path))
    assert main(["serve", "--rate-limits", str(path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"pplx-mock: error: rate limits file {path}: limits.sonar.requests.0: Input should be greater than 0 (got -3)\n"
    )
    assert main(["serve", "--default-tier", "9"]) == 2
    assert "command line: default_tier: Input should be less than or equal to 5" in capsys.readouterr().err
