"""`gazette serve`: the app on uvicorn until SIGTERM or Ctrl-C.

uvicorn stops gracefully on either signal (requests in flight finish, for up to
GRACE_SECONDS); the app's shutdown closes the state database. With serve.workers > 1
each worker is a process that loads the config again from $GAZETTE_CONFIG.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from gazette.config import Settings, load_settings
from gazette.errors import GazetteError
from gazette.log import configure_logging
from gazette.web._app import create_app

log = logging.getLogger("gazette.web")
GRACE_SECONDS = 10
FACTORY = "gazette.web._server:app_from_environment"


def serve(settings: Settings) -> int:
    """Serves until SIGTERM or SIGINT; returns the exit code."""
    listening = bind(settings)
    workers = settings.serve.workers
    config = uvicorn.Config(
        FACTORY if workers > 1 else create_app(settings), factory=workers > 1,
        workers=workers, log_config=None, access_log=False, server_header=False,
        proxy_headers=bool(settings.serve.trusted_proxies),
        forwarded_allow_ips=list(settings.serve.trusted_proxies),
        timeout_graceful_shutdown=GRACE_SECONDS, lifespan="on",
    )  # fmt: skip
    log.info(
        "serving %s on http://%s for %s (%d worker%s)",
        settings.resolve(settings.feeds.output), settings.serve.listen,
        settings.serve.url or settings.feeds_url, workers, "" if workers == 1 else "s",
    )  # fmt: skip
    output = settings.resolve(settings.feeds.output)
    if not output.is_dir():
        log.warning("feeds.output %s does not exist yet: all is 404 until a build", output)
    if workers > 1:
        os.environ["GAZETTE_CONFIG"] = str(settings.config_path)
        Multiprocess(config, sockets=[listening]).run()
    else:
        with _graceful_signals():
            uvicorn.Server(config).run(sockets=[listening])
    log.info("stopped")
    return 0


def app_from_environment() -> Any:
    """A worker's app (uvicorn's factory): the config named by $GAZETTE_CONFIG."""
    settings = load_settings()
    configure_logging(False, settings.site.zone)
    return create_app(settings)


def bind(settings: Settings) -> socket.socket:
    """The listening socket of serve.listen, or a GazetteError saying why not."""
    host, port = settings.serve.address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        raise GazetteError(
            f"{settings.config_path}: [serve] listen: cannot listen on "
            f"{settings.serve.listen}: {error.strerror or error}; stop what listens there "
            "or choose another address"
        ) from None


@contextmanager
def _graceful_signals() -> Iterator[None]:
    """uvicorn stops on SIGTERM or SIGINT and then raises that signal again for the
    handler it found: this one, which lets the command return 0."""

    def note(number: int, _frame: FrameType | None) -> None:
        log.info("%s: stopped gracefully", signal.Signals(number).name)

    previous = {number: signal.signal(number, note) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
