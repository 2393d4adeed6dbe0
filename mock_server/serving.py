"""How the mock asks uvicorn to serve it: the same options for `serve`, its workers and `record`.

- The event loop and HTTP parser are the `loop` and `http` settings, "auto" by default: uvloop
  and httptools, which the package depends on where they exist (not on Windows or PyPy), else
  asyncio and h11. The two give the mock about twice the requests per second of asyncio and h11
  (see the README's Performance section); h11 is the stricter parser of malformed requests.
- No access log below `info`: uvicorn formats each access line's arguments (the path quoted
  again) before the logger drops it, on every request.
- No proxy headers: the mock serves test clients directly and uses no client address, so
  uvicorn's `X-Forwarded-For` layer would be one more ASGI layer on every request for nothing.

And before serving, what the mock built at start-up is frozen out of the garbage collector's sight
(`freeze_start_up_objects`).
"""

from __future__ import annotations

import gc
from typing import Any

from mock_server.settings import Settings

ACCESS_LOG_LEVELS = frozenset({"trace", "debug", "info"})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`, besides the app."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.log_level in ACCESS_LOG_LEVELS,
        "proxy_headers": False,
        "loop": settings.loop,
        "http": settings.http,
    }


def freeze_start_up_objects() -> None:
    """Leave what exists now out of every later garbage collection; call it once the app is built,
    in the process that serves it (never in a test process that builds the app in-process).

    Fixtures, the corpus, the schemas and the modules (about 50,000 tracked objects) live as long
    as the process, yet each full collection scanned them all: under load that was a pause of about
    15 ms every few seconds, which every request in flight waited out, and the non-streamed p99
    varied between 6.5 and 10 ms from run to run. Frozen, they are never scanned again (the
    garbage of start-up is collected first, so it is not kept for ever).
    """
    gc.collect()
    gc.freeze()
