"""Notifications: channels, the delivery outbox, a domain's rules and windows, job snoozes.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from hydra_jobs.store.sql.tables import SafeText, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DELIVERY_INDEXES = {
    "ix_notify_deliveries_due": ["status", "next_attempt_at"],
    "ix_notify_deliveries_channel": ["domain", "channel", "id"],
    "ix_notify_deliveries_job": ["domain", "job_id", "id"],
    "ix_notify_deliveries_run": ["domain", "run_id", "id"],
    "ix_notify_deliveries_last": ["domain", "channel", "job_id", "event", "created_at"],
    "ix_notify_deliveries_created": ["created_at"],
}


def upgrade() -> None:
    op.create_table(
        "notify_channels",
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("channel_type", sa.String(16), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False, unique=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("job_name", sa.String(200), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_attempt_at", UTCDateTime, nullable=True),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.Column("response_code", sa.Integer, nullable=True),
        sa.Column("error", SafeText, nullable=True),
        sa.Column("note", SafeText, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    for name, columns in DELIVERY_INDEXES.items():
        op.create_index(name, "notify_deliveries", columns)
    op.create_table(
        "notify_settings",
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "notify_snoozes",
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_snoozes")
    op.drop_table("notify_settings")
    for name in DELIVERY_INDEXES:
        op.drop_index(name, table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_table("notify_channels")
