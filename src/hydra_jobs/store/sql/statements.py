"""Statements of the SQL store's hot paths, built once with bind parameters.

Building a Core statement and computing its cache key takes ~100 µs, longer than SQLite takes to
run it; a statement built once keeps its cache key, so each execution only binds values. Used for
what every run goes through (trigger, dispatch, events); rarer queries are built where they run.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hydra_jobs.status import RunStatus
from hydra_jobs.store.sql.tables import jobs, log_chunks, runs

JOB_BY_ID = jobs.select().where(
    jobs.c.domain == sa.bindparam("domain"), jobs.c.id == sa.bindparam("job_id")
)
RUN_IN_DOMAIN = runs.select().where(
    runs.c.domain == sa.bindparam("domain"), runs.c.id == sa.bindparam("run_id")
)
RUN_BY_ID = runs.select().where(runs.c.id == sa.bindparam("run_id"))
INSERT_RUNS = runs.insert()

_PENDING = runs.c.status == RunStatus.PENDING.value
DUE_PENDING = (
    runs.select()
    .where(_PENDING, sa.or_(runs.c.not_before.is_(None), runs.c.not_before <= sa.bindparam("now")))
    .order_by(runs.c.id)
    .limit(sa.bindparam("limit"))
)
NEXT_PENDING_TIME = sa.select(sa.func.min(runs.c.not_before)).where(
    _PENDING, runs.c.not_before > sa.bindparam("after")
)

# What an output chunk checks before it is stored: the run exists, is not lost, and is the
# reporting worker's.
LOG_GUARD = sa.select(runs.c.status, runs.c.worker_id).where(runs.c.id == sa.bindparam("run_id"))


def log_size_update(grow: Any, *, truncated: bool) -> Any:
    """`log_size` grows to the end of a chunk (never shrinks: chunks can be stored twice)."""
    end = sa.bindparam("end", type_=sa.Integer)
    values: dict[str, Any] = {"log_size": grow(runs.c.log_size, end)}
    if truncated:
        values["log_truncated"] = True
    return runs.update().where(runs.c.id == sa.bindparam("run_id")).values(**values)


def log_chunk_insert(insert_ignore: Any) -> Any:
    """A chunk already stored at its offset (a redelivered event) is kept, not an error."""
    return insert_ignore(log_chunks, ["run_id", "offset"]).values(
        run_id=sa.bindparam("run_id"),
        offset=sa.bindparam("offset"),
        length=sa.bindparam("length"),
        data=sa.bindparam("data"),
    )
