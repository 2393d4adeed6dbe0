"""The mock's settings: one frozen object built from defaults, a config file, env vars and flags.

Precedence, lowest first: built-in defaults, the TOML config file (`--config` or `MOCK_CONFIG`),
`MOCK_*` environment variables, command-line flags. A bad value is reported as one line naming
where it came from and which field it is.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, SecretStr, ValidationError, field_validator

from mock_server.catalog import MODELS
from mock_server.chaos import parse_rates
from mock_server.errors import quoted
from mock_server.faults import parse_fault
from mock_server.limits import presets

LogLevel = Literal["critical", "error", "warning", "info", "debug"]

# Env var → settings field. Values arrive as strings; pydantic converts them.
ENV_VARS: dict[str, str] = {
    "MOCK_HOST": "host",
    "MOCK_PORT": "port",
    "MOCK_WORKERS": "workers",
    "MOCK_LOOP": "loop",
    "MOCK_HTTP": "http",
    "MOCK_FIXTURES": "fixtures",
    "MOCK_KEYS_FILE": "keys_file",
    "MOCK_SEED": "seed",
    "MOCK_TIME_SCALE": "time_scale",
    "MOCK_MAX_BODY_BYTES": "max_body_bytes",
    "MOCK_LOG_LEVEL": "log_level",
    "MOCK_JOB_QUEUE_SECONDS": "job_queue_seconds",
    "MOCK_JOB_RESEARCH_SECONDS": "job_research_seconds",
    "MOCK_RATE_LIMITS": "rate_limits",
    "MOCK_DEFAULT_TIER": "default_tier",
    "MOCK_MAX_CONCURRENT_REQUESTS": "max_concurrent_requests",
    "MOCK_CONCURRENCY_QUEUE": "concurrency_queue",
    "MOCK_CONCURRENCY_STATUS": "concurrency_status",
    "MOCK_STREAM_OBJECT": "stream_object",
    "MOCK_SEARCH_SECONDS": "search_seconds",
    "MOCK_SEARCH_MULTI_QUERY": "search_multi_query",
    "MOCK_JOURNAL_SIZE": "journal_size",
    "MOCK_ADMIN_TOKEN": "admin_token",
    "MOCK_RETIRED": "retired",
    "MOCK_FAULTS": "faults",
    "MOCK_CHAOS": "chaos",
    "MOCK_FAULT_HANG_SECONDS": "fault_hang_seconds",
    "MOCK_STRICTNESS": "strictness",
}
CONFIG_ENV_VAR = "MOCK_CONFIG"


class SettingsError(Exception):
    """A setting that cannot be used; the message is one line naming its source and field."""


class ModelTiming(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_to_first_token: FiniteFloat | None = Field(default=None, ge=0)
    tokens_per_second: FiniteFloat | None = Field(default=None, gt=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Processes serving the port, each with its own state (see workers.py); read by `pplx-mock serve`.
    workers: int = Field(default=1, ge=1)
    # uvicorn's event loop and HTTP parser (see serving.py): "auto" is uvloop and httptools where
    # they are installed (the package depends on them), else asyncio and h11.
    loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    http: Literal["auto", "httptools", "h11"] = "auto"
    # None means the starter fixtures shipped with the mock.
    fixtures: Path | None = None
    keys_file: Path | None = None
    seed: int = 0
    # 0 removes every simulated delay; 1 is realistic timing. This and every duration is a
    # `FiniteFloat`: NaN fails the bounds, infinity would not, and an infinite delay hangs every
    # request beyond the reach of SIGTERM.
    time_scale: FiniteFloat = Field(default=1.0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    log_level: LogLevel = "info"
    # Async deep-research jobs: time queued before IN_PROGRESS, and research time at medium
    # effort (halved for low, doubled for high); both scaled by time_scale.
    job_queue_seconds: FiniteFloat = Field(default=5.0, ge=0)
    job_research_seconds: FiniteFloat = Field(default=120.0, ge=0)
    # Rate limits: a preset (rl-v3, the newest documented tables; rl-v2, rl-v1; off) or a limits
    # file. The default tier is the highest, so an ordinary test suite meets no surprise 429s.
    rate_limits: str = "rl-v3"
    default_tier: int = Field(default=5, ge=0, le=5)
    # Optional cap on one key's requests in flight; up to `concurrency_queue` more wait for a
    # slot, and the rest get `concurrency_status` at once. None: no cap.
    max_concurrent_requests: int | None = Field(default=None, gt=0)
    concurrency_queue: int = Field(default=0, ge=0)
    concurrency_status: int = 429
    # `object` of full-mode stream chunks: "observed" (chat.completion, what the API sends),
    # "documented" (chat.completion.chunk), or "auto" (documented for the openai SDKs, whose strict
    # validation rejects the observed value; observed for everyone else).
    stream_object: Literal["auto", "observed", "documented"] = "auto"
    # The Search API: time to answer (our estimate, scaled by time_scale), and the shape of a
    # multi-query answer: "flat" (one list, as the SDKs type it) or "grouped" (a list per query,
    # as the docs' best-practices page iterates it).
    search_seconds: FiniteFloat = Field(default=0.4, ge=0)
    search_multi_query: Literal["flat", "grouped"] = "flat"
    models: dict[str, ModelTiming] = Field(default_factory=dict)
    # The control plane: requests the journal keeps per namespace (oldest dropped first), and a
    # token that lets callers from other machines use /_mock/ (None: loopback callers only).
    journal_size: int = Field(default=1000, gt=0)
    admin_token: SecretStr | None = Field(default=None, min_length=1)
    # Faults (see faults.py): "retired Sonar" answers chat with the observed 403; a default fault
    # spec for every API request; chaos rates {"<fault spec>": probability}, seeded by `seed`;
    # and how long a `hang` waits for the client to give up before dropping the connection.
    retired: bool = False
    faults: str | None = None
    chaos: dict[str, float] = Field(default_factory=dict)
    fault_hang_seconds: FiniteFloat = Field(default=300.0, gt=0)
    # "faithful": the real API's rules; "spec": every request the OpenAPI document allows succeeds
    # (unknown models answered as sonar, unknown job ids found), for generated SDK test suites.
    strictness: Literal["faithful", "spec"] = "faithful"

    @field_validator("loop", "http")
    @classmethod
    def _installed(cls, value: str) -> str:
        # "auto" falls back on its own; a named one that is missing would fail deep inside uvicorn.
        if value in {"uvloop", "httptools"} and importlib.util.find_spec(value) is None:
            raise ValueError(f"{value} is not installed (pip install {value}, or use auto)")
        return value

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: dict[str, ModelTiming]) -> dict[str, ModelTiming]:
        for name in value:
            if name not in MODELS:
                raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
        return value

    @field_validator("faults")
    @classmethod
    def _fault_spec(cls, value: str | None) -> str | None:
        if value is not None:
            parse_fault(value)
        return value

    @field_validator("chaos", mode="before")
    @classmethod
    def _chaos_rates(cls, value: Any) -> Any:
        # From the environment the rates arrive as one JSON object.
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                # Bad JSON; also a number `int()` refuses (thousands of digits), or nesting deep
                # enough to exhaust the parser's stack.
                raise ValueError('must be a JSON object {"<fault spec>": rate}') from None
        if isinstance(value, dict):
            parse_rates(value)
        return value

    @field_validator("concurrency_status")
    @classmethod
    def _rejection_status(cls, value: int) -> int:
        if value not in (429, 503):
            raise ValueError("must be 429 or 503")
        return value

    def fixtures_dir(self) -> Path:
        return self.fixtures if self.fixtures is not None else bundled_fixtures_dir()

    def time_to_first_token(self, model: str) -> float:
        override = self.models.get(model)
        if override is not None and override.time_to_first_token is not None:
            return override.time_to_first_token
        return MODELS[model].time_to_first_token

    def tokens_per_second(self, model: str) -> float:
        override = self.models.get(model)
        if override is not None and override.tokens_per_second is not None:
            return override.tokens_per_second
        return MODELS[model].tokens_per_second


def bundled_fixtures_dir() -> Path:
    package = Path(__file__).resolve().parent
    source_tree = package.parent / "fixtures"
    return source_tree if source_tree.is_dir() else package / "_bundled_fixtures"


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge every source into one validated `Settings`, or raise `SettingsError`."""
    environ = os.environ if environ is None else environ
    if config_file is None and environ.get(CONFIG_ENV_VAR):
        config_file = Path(environ[CONFIG_ENV_VAR])
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((f"config file {config_file}", read_config_file(config_file)))
    layers.append(("environment", {field: environ[var] for var, field in ENV_VARS.items() if var in environ}))
    layers.append(("command line", {key: value for key, value in (flags or {}).items() if value is not None}))

    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin[key] = source
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        source = origin.get(str(error["loc"][0]), "settings") if error["loc"] else "settings"
        raise SettingsError(f"{source}: {_describe(field, error)}") from None
    _check_utf8(settings)
    return settings


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file {path}: not found") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"config file {path}: {_not_utf8(exc)}") from None
    except (ValueError, RecursionError) as exc:
        # `TOMLDecodeError`, and what tomllib lets through: `int()` refusing a number of thousands
        # of digits, the stack running out on deeply nested arrays.
        raise SettingsError(f"config file {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"config file {path}: cannot be read ({exc.strerror})") from None
    return data


def _check_utf8(settings: Settings) -> None:
    """The keys file and a rate limits file must be UTF-8 text, like the config file.

    Their readers (auth.py, limits.py, at start-up) report every other problem with one line, but
    let a `UnicodeDecodeError` through as a traceback; checked here, it is one line as well.
    """
    files = {"keys file": settings.keys_file}
    if settings.rate_limits not in presets():
        files["rate limits file"] = Path(settings.rate_limits)
    for what, path in files.items():
        if path is None:
            continue
        try:
            path.read_bytes().decode()
        except OSError:
            continue  # missing or unreadable: its reader says so
        except UnicodeDecodeError as exc:
            raise SettingsError(f"{what} {path}: {_not_utf8(exc)}") from None


def _not_utf8(exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 ({exc.reason} at byte {exc.start})"


def _describe(field: str, error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown setting {field!r}"
    return f"{field}: {error['msg']} (got {quoted(error.get('input'))})"
