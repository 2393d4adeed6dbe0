"""How the mock asks uvicorn to serve it, and what it needs of the server's transports."""

from __future__ import annotations

import gc
import importlib.util
import sys
import weakref
from typing import Any

import pytest
import uvicorn

from mock_server import connection
from mock_server.app import create_app
from mock_server.serving import freeze_start_up_objects, uvicorn_options
from mock_server.settings import Settings, SettingsError, load_settings


@pytest.mark.parametrize(
    ("level", "access_log"), [("debug", True), ("info", True), ("warning", False), ("error", False)]
)
def test_the_access_log_is_on_only_where_its_lines_would_show(level: str, access_log: bool) -> None:
    options = uvicorn_options(Settings(log_level=level, host="127.0.0.1", port=9))
    assert options["access_log"] is access_log
    assert (options["host"], options["port"], options["log_level"]) == ("127.0.0.1", 9, level)
    assert (options["proxy_headers"], options["loop"], options["http"]) == (False, "auto", "auto")


def served_by(settings: Settings) -> tuple[type[Any], type[Any]]:
    """The HTTP protocol class and the event loop class uvicorn would serve the mock with."""
    config = uvicorn.Config(create_app(settings), **uvicorn_options(settings))
    config.load()
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    loop.close()
    return config.http_protocol_class, type(loop)


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_uvicorn_serves_the_mock_on_uvloop_and_httptools() -> None:
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert served_by(Settings()) == (HttpToolsProtocol, uvloop.Loop)


class LoopTransport:
    """Shaped like uvloop's transports: the methods, and no `asyncio.Transport` base."""

    def __init__(self) -> None:
        self.limits: dict[str, Any] = {}
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.limits = {"high": high, "low": low}

    def abort(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class Cycle:
    def __init__(self, transport: object) -> None:
        self.transport = transport

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.disconnect"}


def test_a_transport_is_kept_by_what_it_can_do_not_by_its_class() -> None:
    transport, scope = LoopTransport(), {"type": "http"}
    connection.note_transport(scope, Cycle(transport).receive)
    assert connection.transport_of(scope) is transport
    connection.reset(transport)
    assert transport.closed


def test_something_that_is_not_a_transport_is_not_used_as_one() -> None:
    scope = {"type": "http"}
    connection.note_transport(scope, Cycle(object()).receive)
    assert connection.transport_of(scope) is None


def test_asyncio_and_h11_can_be_asked_for() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    protocol, loop = served_by(Settings(loop="asyncio", http="h11"))
    assert protocol is H11Protocol and loop.__module__.startswith("asyncio")


def test_a_named_loop_or_parser_that_is_not_installed_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "uvloop" else real_find_spec(name))
    with pytest.raises(SettingsError, match=r"command line: loop: .*uvloop is not installed"):
        load_settings({"loop": "uvloop"}, environ={})
    assert load_settings({"loop": "auto", "http": "httptools"}, environ={}).http == "httptools"


class Node:
    def __init__(self) -> None:
        self.itself = self


def test_what_start_up_built_is_left_out_of_later_collections() -> None:
    create_app(Settings())
    # A cycle that only a collection frees, and no automatic collection before the freeze.
    gc.disable()
    garbage = weakref.ref(Node())
    try:
        freeze_start_up_objects()
        # The app's fixtures, corpus and schemas, and everything imported: tens of thousands.
        assert gc.get_freeze_count() > 10_000
        # The garbage of start-up was collected first, not kept for ever.
        assert garbage() is None
    finally:
        gc.unfreeze()
        gc.enable()


def test_serve_freezes_what_it_built_before_uvicorn_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server import cli

    events: list[str] = []
    monkeypatch.setattr(cli, "freeze_start_up_objects", lambda: events.append("freeze"))
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: events.append("run"))
    assert cli.main(["serve", "--port", "9", "--log-level", "warning"]) == 0
    assert events == ["freeze", "run"]
