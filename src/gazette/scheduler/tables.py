"""The scheduler's table in the state database: APScheduler 3's job store.

APScheduler's SQLAlchemyJobStore defines and writes it (and would create it when it is
missing); it is declared here as well so that the migrations own it like every other
table, and `status` can read the stored next runs without reflecting it.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from gazette.store import metadata

JOBS_TABLE = "gazette_jobs"

jobs = Table(
    JOBS_TABLE,
    metadata,
    # As SQLAlchemyJobStore declares them: 191 is MySQL's longest utf8mb4 key, and a
    # precision of 25 makes an 8-byte float.
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
