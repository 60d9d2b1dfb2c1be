"""Initial schema: domains, jobs, runs, log chunks, workers, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from hydra_jobs.store.sql.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "domains",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("has_schedule", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("next_fire_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("domain", "name", name="uq_jobs_domain_name"),
    )
    op.create_index("ix_jobs_domain_id", "jobs", ["domain", "id"])
    op.create_table(
        "runs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("job_id", ID, nullable=False),
        sa.Column("job_name", sa.String(200), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("retry_of", ID, nullable=True),
        sa.Column("slot_key", sa.String(120), nullable=True, unique=True),
        sa.Column("scheduled_for", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("not_before", UTCDateTime, nullable=True),
        sa.Column("queued_at", UTCDateTime, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("source_commit", sa.String(64), nullable=True),
        sa.Column("resource_usage", sa.JSON, nullable=True),
        sa.Column("log_size", sa.Integer, nullable=False),
        sa.Column("log_truncated", sa.Boolean, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("lost_count", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_index("ix_runs_domain_id", "runs", ["domain", "id"])
    op.create_index("ix_runs_domain_job_id", "runs", ["domain", "job_id", "id"])
    op.create_index("ix_runs_domain_status_id", "runs", ["domain", "status", "id"])
    op.create_index("ix_runs_status_not_before", "runs", ["status", "not_before"])
    op.create_index("ix_runs_job_status", "runs", ["job_id", "status"])
    op.create_index("ix_runs_worker_status", "runs", ["worker_id", "status"])
    op.create_table(
        "log_chunks",
        sa.Column("run_id", ID, primary_key=True),
        sa.Column("offset", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("info", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_heartbeat_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_workers_domain", "workers", ["domain", "id"])
    op.create_table(
        "audit",
        sa.Column("id", ID, primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_domain_id", "audit", ["domain", "id"])


def downgrade() -> None:
    for table in ("audit", "workers", "log_chunks", "runs", "jobs", "domains"):
        op.drop_table(table)
