"""SQL tables (SQLAlchemy Core). Alembic migrations create them; a test checks the two agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, returned aware, so comparisons never mix kinds."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return as_utc(value)


class SafeText(sa.TypeDecorator[str]):
    """Text that PostgreSQL can hold: NUL (which job output may contain) becomes U+FFFD there.

    One character for one, so log offsets, counted in characters, stay whole.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "\ufffd")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp (naive UTC, or text from an aggregate on SQLite) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)


ID = sa.String(32)
SCHEDULED = sa.text("\"trigger\" = 'schedule'")  # partial index: only scheduled runs have slots

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ai_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("worker_key", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    # Tokens made before roles existed could do everything: they are owners (migration 0007).
    sa.Column("role", sa.String(16), nullable=False, server_default="owner"),
    sa.Index("ix_tokens_domain_id", "domain", "id"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("has_schedule", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("next_fire_at", UTCDateTime, nullable=True),
    sa.Column("retention_days", sa.Integer, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("domain", "name", name="uq_jobs_domain_name"),
    sa.Index("ix_jobs_domain_id", "domain", "id"),
)

runs = sa.Table(
    "runs",
    metadata,
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
    sa.Column("error", SafeText, nullable=True),
    sa.Column("worker_id", sa.String(64), nullable=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("source_commit", sa.String(64), nullable=True),
    sa.Column("resource_usage", sa.JSON, nullable=True),
    sa.Column("log_size", sa.Integer, nullable=False, default=0),
    sa.Column("log_truncated", sa.Boolean, nullable=False, default=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("lost_count", sa.Integer, nullable=False, default=0),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("job_version", sa.Integer, nullable=True),
    sa.Index("ix_runs_domain_id", "domain", "id"),
    sa.Index("ix_runs_domain_job_id", "domain", "job_id", "id"),
    sa.Index("ix_runs_domain_status_id", "domain", "status", "id"),
    sa.Index("ix_runs_status_not_before", "status", "not_before"),
    sa.Index("ix_runs_job_status", "job_id", "status", "created_at"),
    sa.Index(
        "ix_runs_job_slot",
        "job_id",
        "scheduled_for",
        sqlite_where=SCHEDULED,
        postgresql_where=SCHEDULED,
    ),
    sa.Index("ix_runs_created_at", "created_at"),
    sa.Index("ix_runs_domain_created_at", "domain", "created_at", "id"),
    sa.Index("ix_runs_domain_job_status_id", "domain", "job_id", "status", "id"),
    sa.Index("ix_runs_worker_status", "worker_id", "status"),
)

log_chunks = sa.Table(
    "log_chunks",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("offset", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("data", SafeText, nullable=False),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("info", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("last_heartbeat_at", UTCDateTime, nullable=False),
    sa.Index("ix_workers_domain", "domain", "id"),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object_type", sa.String(32), nullable=False),
    sa.Column("object_id", sa.String(64), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index("ix_audit_domain_id", "domain", "id"),
    # The audit page's filters (GET /audit?actor=&object_type=&object_id=), newest first.
    sa.Index("ix_audit_domain_actor_id", "domain", "actor", "id"),
    sa.Index("ix_audit_domain_object_id", "domain", "object_type", "object_id", "id"),
)

analyses = sa.Table(
    "analyses",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("job_id", ID, nullable=False),
    sa.Column("fingerprint", sa.String(32), nullable=False),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Index("ix_analyses_domain_job_fingerprint", "domain", "job_id", "fingerprint"),
)

job_versions = sa.Table(
    "job_versions",
    metadata,
    sa.Column("job_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("restored_from", sa.Integer, nullable=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Index("ix_job_versions_domain", "domain"),
)

# notifications (hydra_jobs.notify) -------------------------------------------------------------

notify_channels = sa.Table(
    "notify_channels",
    metadata,
    sa.Column("domain", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

notify_deliveries = sa.Table(
    "notify_deliveries",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("channel_type", sa.String(16), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("dedup_key", sa.String(255), nullable=False, unique=True),
    sa.Column("job_id", ID, nullable=True),
    sa.Column("job_name", sa.String(200), nullable=True),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("response_code", sa.Integer, nullable=True),
    sa.Column("error", SafeText, nullable=True),
    sa.Column("note", SafeText, nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Index("ix_notify_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_notify_deliveries_channel", "domain", "channel", "id"),
    sa.Index("ix_notify_deliveries_job", "domain", "job_id", "id"),
    sa.Index("ix_notify_deliveries_run", "domain", "run_id", "id"),
    sa.Index("ix_notify_deliveries_last", "domain", "channel", "job_id", "event", "created_at"),
    sa.Index("ix_notify_deliveries_created", "created_at"),
)

notify_settings = sa.Table(
    "notify_settings",
    metadata,
    sa.Column("domain", sa.String(64), primary_key=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

notify_snoozes = sa.Table(
    "notify_snoozes",
    metadata,
    sa.Column("domain", sa.String(64), primary_key=True),
    sa.Column("job_id", ID, primary_key=True),
    sa.Column("until", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
