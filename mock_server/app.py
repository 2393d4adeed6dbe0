"""`create_app(settings)`: the only place where the mock is wired together."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from mock_server.auth import KeyStore, load_keys_file
from mock_server.clock import Clock
from mock_server.concurrency import ConcurrencyLimitMiddleware
from mock_server.corpus import load_corpus
from mock_server.errors import MockAPIError, handle_api_error, handle_server_error, handle_unknown_route
from mock_server.exchange import ExchangeMiddleware
from mock_server.fixtures import load_fixtures
from mock_server.limits import load_limits
from mock_server.routes import ROUTES, ExactPathRouter, client_gone
from mock_server.settings import Settings, load_settings
from mock_server.state import MockState


class MockApp(Starlette):
    """Starlette, with the mock's outer layer (exchange.py) around its whole stack, error middleware
    included: the outer layer answers most API requests straight from their endpoint, and answers
    the API's 500 itself when one fails, so they skip that middleware too; the journal then also
    sees the 500 the middleware sends for the rest.
    """

    # The same object as `app.state.mock`, where handlers read it (`state.mock_state`).
    mock_state: MockState

    def build_middleware_stack(self) -> ASGIApp:
        return ExchangeMiddleware(super().build_middleware_stack(), self.mock_state, routes=ROUTES)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> MockApp:
    """Build the mock. Without `settings`, they come from `MOCK_*` env vars and `MOCK_CONFIG`.

    Raises `SettingsError`, `FixtureError`, `KeysFileError` or `LimitsError` with a one-line
    message when the configuration cannot be used.
    """
    settings = settings if settings is not None else load_settings()
    keys = load_keys_file(settings.keys_file) if settings.keys_file is not None else KeyStore()
    fixtures_dir = settings.fixtures_dir()
    state = MockState(settings, keys, load_fixtures(fixtures_dir), clock or Clock(), load_corpus(fixtures_dir))
    state.limits = load_limits(settings.rate_limits)
    # Stores that `POST /_mock/reset` must empty besides the built-in ones go here, each with a
    # `reset(namespace: str | None)` method (see `Resettable`): `state.resettables.append(store)`.
    state.resettables += [state.scenarios, state.chaos]
    # Outermost, around what Starlette builds (see MockApp): the layer that notes the transport before
    # anything wraps `receive`, completes the response headers, journals each response as the client
    # gets it, and applies the faults.
    app = MockApp(
        routes=ROUTES,
        # Only when a cap is configured: a layer that lets everything through still costs each request.
        middleware=[Middleware(ConcurrencyLimitMiddleware, state=state)] if settings.max_concurrent_requests else [],
        exception_handlers={
            MockAPIError: handle_api_error,
            ClientDisconnect: client_gone,  # type: ignore[dict-item]  # None: Starlette sends nothing
            404: handle_unknown_route,
            405: handle_unknown_route,
            Exception: handle_server_error,
        },
    )
    # Starlette builds its own router from the routes; ours finds exact paths by a dictionary.
    app.router = ExactPathRouter(ROUTES)
    app.state.mock = app.mock_state = state
    return app
