"""The scheduler: `gazette run`'s jobs on their schedules, and what `status` reports."""

from __future__ import annotations

from gazette.scheduler.service import run_scheduler

__all__ = ["run_scheduler"]
