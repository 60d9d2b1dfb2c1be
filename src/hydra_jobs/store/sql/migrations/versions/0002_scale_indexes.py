"""Indexes for large histories, and `jobs.retention_days` as a column.

Measured with 200,000 runs (bench/store_scale.py), where 0001 read far more than it returned: the
ticker's last-slot lookup read every run of a job (64-80 ms for a job of 50,000 runs); retention
scanned the table to find nothing to delete (50-140 ms); the dashboard's 24 h stats read every run
of the domain (60-180 ms); runs of one job in a status absent from it, every run of the job (65 ms).

- `ix_runs_job_slot`: (job_id, scheduled_for) of scheduled runs only (partial: small).
- `ix_runs_created_at`: retention's global cutoff.
- `ix_runs_domain_created_at`: the stats window, and listings filtered by time (with `id`, so
  the page's ids come from the index alone).
- `ix_runs_domain_job_status_id`: the newest runs of one job in given statuses.
- `ix_runs_job_status` (job_id, status) becomes (job_id, status, created_at): the same prefix for
  active counts, plus a per-job retention cutoff.
- `jobs.retention_days`: read by retention without parsing every job's JSON spec (PostgreSQL's
  JSON operators fail on a spec holding "\\u0000"), backfilled from the specs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEDULED = sa.text("\"trigger\" = 'schedule'")
_jobs = sa.table(
    "jobs", sa.column("id", sa.String), sa.column("spec", sa.JSON), sa.column("retention_days")
)


def upgrade() -> None:
    op.create_index(
        "ix_runs_job_slot",
        "runs",
        ["job_id", "scheduled_for"],
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_domain_created_at", "runs", ["domain", "created_at", "id"])
    op.create_index("ix_runs_domain_job_status_id", "runs", ["domain", "job_id", "status", "id"])
    op.drop_index("ix_runs_job_status", table_name="runs")
    op.create_index("ix_runs_job_status", "runs", ["job_id", "status", "created_at"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer, nullable=True))
    _backfill_retention_days()


def _backfill_retention_days() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_jobs.c.id, _jobs.c.spec)).fetchall()
    for job_id, spec in rows:
        days = (spec or {}).get("retention_days")
        if days is not None:
            conn.execute(
                _jobs.update().where(_jobs.c.id == job_id).values(retention_days=int(days))
            )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("retention_days")
    op.drop_index("ix_runs_job_status", table_name="runs")
    op.create_index("ix_runs_job_status", "runs", ["job_id", "status"])
    op.drop_index("ix_runs_domain_job_status_id", table_name="runs")
    op.drop_index("ix_runs_domain_created_at", table_name="runs")
    op.drop_index("ix_runs_created_at", table_name="runs")
    op.drop_index("ix_runs_job_slot", table_name="runs")
