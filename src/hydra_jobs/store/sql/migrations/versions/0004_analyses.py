"""Failure analyses, one per run, with the fingerprint that groups recurring failures.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from hydra_jobs.store.sql.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_analyses_domain_job_fingerprint", "analyses", ["domain", "job_id", "fingerprint"]
    )


def downgrade() -> None:
    op.drop_index("ix_analyses_domain_job_fingerprint", table_name="analyses")
    op.drop_table("analyses")
