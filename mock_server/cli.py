"""The `pplx-mock` command (also `python -m mock_server`).

    pplx-mock serve [--host 127.0.0.1] [--port 8000] [--fixtures DIR] [--config FILE]
                    [--keys-file FILE] [--seed N] [--time-scale FLOAT] [--log-level LEVEL]
                    [--rate-limits PRESET|FILE] [--default-tier N] [--journal-size N] [--admin-token TOKEN]
                    [--strictness faithful|spec] [--workers N]
    pplx-mock record --upstream URL [--mode record-all|record-missing|replay-only]
                     [the same options as serve, but --workers]

Every usage or configuration problem is reported as one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from mock_server.auth import KeysFileError
from mock_server.fixtures import FixtureError
from mock_server.limits import LimitsError
from mock_server.serving import freeze_start_up_objects, uvicorn_options
from mock_server.settings import SettingsError, load_settings

PROG = "pplx-mock"


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description="A local stand-in for the Perplexity (Sonar) HTTP API.")
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    serve = commands.add_parser("serve", help="run the mock server")
    add_settings_options(serve, fixtures_help="fixtures directory (default: the starter set)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (default 1); each keeps its own limits, jobs, journal and clock",
    )
    record = commands.add_parser("record", help="proxy to an upstream API and record its answers as fixtures")
    record.add_argument("--upstream", required=True, metavar="URL", help="the API to forward to")
    # The mock's own settings too: in record-missing and replay-only it answers what it can itself.
    add_settings_options(record, fixtures_help="fixtures directory; new files go to DIR/recorded")
    record.add_argument(
        "--mode",
        choices=["record-all", "record-missing", "replay-only"],
        default="record-missing",
        help="record-missing (default): replay hits, record misses; record-all; replay-only: misses get 404",
    )
    return parser


def add_settings_options(parser: argparse.ArgumentParser, *, fixtures_help: str) -> None:
    """The flags for the mock's settings (see `settings_flags`), shared by `serve` and `record`."""
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--fixtures", type=Path, metavar="DIR", help=fixtures_help)
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML config file")
    parser.add_argument("--keys-file", type=Path, metavar="FILE", help="accepted API keys, one a line")
    parser.add_argument("--seed", type=int, metavar="N", help="seed for synthesized answers (default 0)")
    parser.add_argument(
        "--time-scale",
        type=float,
        metavar="FLOAT",
        help="multiplies every simulated delay: 0 none, 1 realistic (default 1)",
    )
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument(
        "--rate-limits",
        metavar="PRESET|FILE",
        help="rate-limit preset (rl-v3, rl-v2, rl-v1, off) or limits file (default rl-v3)",
    )
    parser.add_argument("--default-tier", type=int, metavar="N", help="usage tier 0-5 of ordinary keys (default 5)")
    parser.add_argument("--journal-size", type=int, metavar="N", help="requests kept per namespace (default 1000)")
    parser.add_argument("--admin-token", metavar="TOKEN", help="lets callers elsewhere use /_mock/ with this token")
    parser.add_argument(
        "--retired",
        action="store_true",
        default=None,
        help="answer chat completions with the retired-Sonar 403 (migration testing)",
    )
    parser.add_argument(
        "--strictness",
        choices=["faithful", "spec"],
        help="faithful: the real API's rules (default); spec: every request the OpenAPI document allows succeeds",
    )
    parser.add_argument(
        "--loop", choices=["auto", "uvloop", "asyncio"], help="event loop (default auto: uvloop when installed)"
    )
    parser.add_argument(
        "--http", choices=["auto", "httptools", "h11"], help="HTTP parser (default auto: httptools when installed)"
    )


def settings_flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings given on the command line (None: not given), by setting name."""
    names = (
        "host", "port", "fixtures", "keys_file", "seed", "time_scale", "log_level", "rate_limits", "default_tier",
        "journal_size", "admin_token", "retired", "strictness", "workers", "loop", "http",
    )  # fmt: skip
    return {name: getattr(args, name, None) for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "serve"):
        return serve(args)
    if args.command == "record":
        return record(args)
    parser.error(f"unknown command {args.command!r}")


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_server.app import create_app
    from mock_server.workers import FACTORY, SETTINGS_ENV_VAR, encode_settings, startup_warning

    flags = settings_flags(args)
    try:
        settings = load_settings(flags, config_file=getattr(args, "config", None))
        app = create_app(settings)
    except (SettingsError, FixtureError, KeysFileError, LimitsError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    fixtures = len(app.state.mock.fixtures.fixtures)
    workers = f"{settings.workers} workers, " if settings.workers > 1 else ""
    print(
        f"{PROG}: serving the Perplexity API on http://{settings.host}:{settings.port} ({workers}{fixtures} fixtures "
        f"from {settings.fixtures_dir()}, time scale {settings.time_scale}, seed {settings.seed})",
        file=sys.stderr,
    )
    if settings.workers == 1:
        freeze_start_up_objects()
        uvicorn.run(app, **uvicorn_options(settings))
        return 0
    print(f"{PROG}: {startup_warning(settings.workers)}", file=sys.stderr)
    # uvicorn's workers import the app by name and build their own; the app built here only proved
    # that the settings work. They read the settings resolved here from the environment they inherit.
    del app
    os.environ[SETTINGS_ENV_VAR] = encode_settings(settings)
    uvicorn.run(FACTORY, factory=True, workers=settings.workers, **uvicorn_options(settings))
    return 0


def record(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_server.record import create_record_app

    try:
        settings = load_settings(settings_flags(args), config_file=args.config)
        fixtures_dir = settings.fixtures_dir()
        app = create_record_app(args.upstream, fixtures_dir, args.mode, settings)
    except (SettingsError, FixtureError, KeysFileError, LimitsError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{PROG}: recording {args.upstream} on http://{settings.host}:{settings.port} "
        f"(mode {args.mode}, new fixtures in {fixtures_dir / 'recorded'})",
        file=sys.stderr,
    )
    uvicorn.run(app, **uvicorn_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
