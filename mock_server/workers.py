"""More than one worker process (`pplx-mock serve --workers N`): the settings each worker gets.

The parent resolves and checks the settings once (flags, config file, env), builds the app once so
that a bad fixture, keys or limits file is still one line before any worker starts, and hands the
resolved settings to uvicorn's workers as JSON in an environment variable. Each worker builds its
app from exactly those, not from its own reading of flags, files and env, which could differ.

Every worker keeps its own state, and a request reaches whichever worker the kernel gave the
connection to. Until a shared backend exists, the control plane, which would change or show one
worker's state as if it were the whole mock's, answers 501 in every worker.
"""

from __future__ import annotations

import json
import os

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.app import create_app
from mock_server.errors import error_body
from mock_server.serving import freeze_start_up_objects
from mock_server.settings import Settings

SETTINGS_ENV_VAR = "_PPLX_MOCK_WORKER_SETTINGS"
FACTORY = "mock_server.workers:create_worker_app"


def encode_settings(settings: Settings) -> str:
    data = settings.model_dump(mode="json")
    # JSON mode masks secrets as "**********"; the workers need the token itself.
    if settings.admin_token is not None:
        data["admin_token"] = settings.admin_token.get_secret_value()
    return json.dumps(data)


def decode_settings(text: str) -> Settings:
    return Settings.model_validate_json(text)


def startup_warning(workers: int) -> str:
    return (
        f"warning: {workers} worker processes, each with its own rate-limit buckets and concurrency cap "
        f"({workers}× looser in aggregate), async jobs (a poll on another worker gets 404), request journal, "
        "runtime tiers, scenarios, chaos, clock and answer cache; /_mock/ answers 501. "
        "Use --workers 1 for functional and rate-limit tests."
    )


def create_worker_app() -> ASGIApp:
    """uvicorn's factory in each worker process."""
    text = os.environ.get(SETTINGS_ENV_VAR)
    if text is None:
        raise RuntimeError(f"{SETTINGS_ENV_VAR} is not set: start workers with `pplx-mock serve --workers N`")
    settings = decode_settings(text)
    app = ControlPlaneRefusal(create_app(settings), settings.workers)
    freeze_start_up_objects()
    return app


class ControlPlaneRefusal:
    """Answers every `/_mock/` request with 501: it would reach one worker of several."""

    def __init__(self, app: ASGIApp, workers: int) -> None:
        self.app = app
        self.body = error_body(
            501,
            "not_implemented",
            f"The mock runs {workers} worker processes and /_mock/ would reach only one of them "
            "(each has its own journal, tiers, jobs, clock and limits). Start it with --workers 1 to use /_mock/.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_mock/"):
            response = Response(self.body, status_code=501, media_type="application/json")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
