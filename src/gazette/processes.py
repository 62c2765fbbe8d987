"""Whether a process named by its pid still runs: how a lease or a part-file left by a
killed process is told from one whose owner is at work."""

from __future__ import annotations

import os
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
