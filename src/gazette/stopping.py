"""Graceful stop: SIGTERM or Ctrl-C ends a run after the provider call in flight."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger("gazette")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``; a second one exits at once."""

    def handle(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if stop.is_set():
            log.warning("%s again: exiting now; a call in flight stays uncertain", name)
            os._exit(128 + number)
        log.info("%s: stopping after the provider call in flight (again to exit now)", name)
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for number in (signal.SIGTERM, signal.SIGINT):
        previous[number] = signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
