"""Domain API tokens: one row per token, holding hashes of its secret and never the secret.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from hydra_jobs.store.sql.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("worker_key", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_tokens_domain_id", "tokens", ["domain", "id"])


def downgrade() -> None:
    op.drop_index("ix_tokens_domain_id", table_name="tokens")
    op.drop_table("tokens")
