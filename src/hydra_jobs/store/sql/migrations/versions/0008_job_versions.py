"""Job history: every saved version of a job, the job's current version, the run's version.

Each existing job gets its current spec as version 1 (actor 'migration'); runs made before
have no version.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("job_version", sa.Integer, nullable=True))
    op.create_table(
        "job_versions",
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("restored_from", sa.Integer, nullable=True),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_index("ix_job_versions_domain", "job_versions", ["domain"])
    op.execute(
        "INSERT INTO job_versions (job_id, version, domain, change, actor, at, spec) "
        "SELECT id, 1, domain, 'create', 'migration', updated_at, spec FROM jobs"
    )


def downgrade() -> None:
    op.drop_index("ix_job_versions_domain", "job_versions")
    op.drop_table("job_versions")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("job_version")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("version")
