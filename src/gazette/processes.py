"""Processes: whether one named by its pid still runs (how a lease or a part-file left by
a killed process is told from one whose owner is at work), and workers that end with the
process that started them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from pathlib import Path


def pid_runs(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (as any user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True


def process_space() -> str:
    """Which processes a pid names: this kernel boot and pid namespace; "" off Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}:{namespace}"


def exit_with_parent() -> None:
    """Makes a worker process end when the process that started it does, however that
    ends: a build killed (by a timeout, say) would leave its workers waiting for work,
    holding their memory, for good."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="parent watch", daemon=True).start()
