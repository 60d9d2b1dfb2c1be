"""The store interface: the source of truth for jobs, runs, logs, workers and audit records.

Every read by id takes the caller's domain, so scoping cannot be forgotten at a call site. Writes
that come from run events are applied in batches (`apply`): one transaction for many events.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hydra_jobs.alerts import (
    AttemptResult,
    ChannelRecord,
    Delivery,
    DeliveryFilter,
    NotifyEvent,
    NotifySettings,
    Snooze,
)
from hydra_jobs.models import (
    Job,
    JobChange,
    JobVersion,
    JobVersionSummary,
    LogPage,
    Page,
    Run,
    Stats,
    Worker,
)
from hydra_jobs.status import RunStatus, SetStatus
from hydra_jobs.tenancy import Domain, Role
from hydra_jobs.tokens import TokenRecord


@dataclass(frozen=True, slots=True)
class AppendLog:
    run_id: str
    offset: int
    data: str
    worker_id: str | None = None
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class UpsertWorker:
    worker: Worker


Op = SetStatus | AppendLog | UpsertWorker


@dataclass(frozen=True, slots=True)
class RunFilter:
    job_id: str | None = None
    status: Collection[RunStatus] | None = None
    worker_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: str
    domain: str
    actor: str
    action: str
    object_type: str
    object_id: str | None
    at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What `list_audit` keeps: each field given must match (times bound `at`, `until` excluded)."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    """A run's failure analysis as stored with the run (one per run; a new one replaces it).

    `body` is the answer as the API returns it; `fingerprint` and `job_id` are kept beside it so
    recurring failures can be found without reading every body.
    """

    run_id: str
    domain: str
    job_id: str
    fingerprint: str
    provider: str
    created_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangeBy:
    """Who changed a job and how: kept with the version the change makes (job history).

    `change` None means `create` for `create_job`, `update` for `replace_job`."""

    actor: str = "system"
    change: JobChange | None = None
    restored_from: int | None = None


SYSTEM = ChangeBy()


def slot_key(run: Run) -> str | None:
    """The idempotency key of a scheduled slot: one run per (job, slot time), ever.

    Every store keeps it under a unique index, so two schedulers firing one slot collide.
    """
    if run.scheduled_for is None or run.trigger != "schedule":
        return None
    return f"{run.job_id}@{run.scheduled_for.isoformat()}"


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def ensure_domain(self, name: str) -> None: ...
    async def create_domain(self, name: str, description: str | None, now: datetime) -> None:
        """Raises `Conflict` when the domain exists."""
        ...

    async def has_domain(self, name: str) -> bool: ...
    async def get_domain(self, name: str) -> Domain: ...
    async def list_domains(self) -> list[Domain]: ...
    async def update_domain(self, name: str, description: str | None) -> Domain: ...
    async def set_domain_ai(self, name: str, enabled: bool) -> None:
        """Allow or forbid AI providers for a domain; `NotFound` if there is no such domain."""
        ...

    async def delete_domain(self, name: str, *, batch: int = 1000) -> None:
        """Delete the domain with its jobs, runs, logs, workers, tokens and audit records.

        The record of the deletion itself is written afterwards (by the audit log), so it is
        what a domain re-created under that name finds in its log.
        """
        ...

    async def create_token(self, token: TokenRecord) -> None: ...
    async def get_token(self, token_id: str) -> TokenRecord | None:
        """Any domain's token by id (authentication resolves the domain from it)."""
        ...

    async def list_tokens(self, domain: str) -> list[TokenRecord]: ...
    async def revoke_token(self, domain: str, token_id: str, now: datetime) -> TokenRecord:
        """Mark a token of `domain` revoked (idempotent); `NotFound` outside the domain."""
        ...

    async def set_token_role(self, domain: str, token_id: str, role: Role) -> TokenRecord:
        """Change the role of a token of `domain`; `NotFound` outside the domain."""
        ...

    async def touch_token(self, token_id: str, now: datetime) -> None: ...
    async def active_tokens(self) -> list[TokenRecord]: ...

    async def create_job(self, job: Job, by: ChangeBy = SYSTEM) -> None:
        """Store a new job and its first version (`job.version`, its spec, `by`)."""
        ...

    async def get_job(self, domain: str, job_id: str, *, with_last_run: bool = True) -> Job: ...
    async def list_jobs(
        self, domain: str, *, limit: int, cursor: str | None, search: str | None = None
    ) -> Page[Job]: ...
    async def replace_job(self, job: Job, by: ChangeBy = SYSTEM) -> int:
        """Replace the job's spec and fields, keeping the result as its next version; returns
        that version (one more than the stored one, whatever `job.version` says)."""
        ...

    async def delete_job(self, domain: str, job_id: str) -> None:
        """Delete the job with its history (its runs stay, with their snapshots)."""
        ...

    async def list_job_versions(
        self, domain: str, job_id: str, *, limit: int, cursor: int | None
    ) -> Page[JobVersionSummary]:
        """The job's versions, newest first; `cursor` is a version number (those below it).
        `NotFound` when the job is not in `domain`."""
        ...

    async def get_job_version(self, domain: str, job_id: str, version: int) -> JobVersion: ...
    async def set_job_fields(self, domain: str, job_id: str, **fields: Any) -> Job: ...
    async def schedulable_jobs(self) -> list[Job]: ...

    async def insert_runs(self, runs: Sequence[Run]) -> list[Run]: ...
    async def get_run(self, domain: str, run_id: str) -> Run: ...
    async def find_run(self, run_id: str) -> Run | None: ...
    async def list_runs(
        self, domain: str, flt: RunFilter, *, limit: int, cursor: str | None
    ) -> Page[Run]: ...
    async def runs_with_status(
        self, statuses: Collection[RunStatus], *, job_id: str | None = None, limit: int = 10_000
    ) -> list[Run]: ...
    async def due_pending(
        self, now: datetime, limit: int, *, exclude_jobs: Collection[str] = ()
    ) -> list[Run]: ...
    async def next_pending_time(self, after: datetime) -> datetime | None: ...
    async def active_counts(self, job_ids: Collection[str]) -> dict[str, int]: ...
    async def last_scheduled_slot(self, job_id: str) -> datetime | None: ...
    async def apply(self, ops: Sequence[Op]) -> list[Run | bool]: ...
    async def set_status(self, op: SetStatus) -> Run | None: ...

    async def stats(self, domain: str, since: datetime, now: datetime) -> Stats: ...

    async def read_log(self, domain: str, run_id: str, offset: int, max_chars: int) -> LogPage: ...

    async def list_workers(self, domain: str | None) -> list[Worker]: ...
    async def get_worker(self, domain: str, worker_id: str) -> Worker: ...

    async def save_analysis(self, analysis: StoredAnalysis) -> None:
        """Store a run's analysis, replacing the one stored before."""
        ...

    async def get_analysis(self, domain: str, run_id: str) -> StoredAnalysis | None: ...

    async def add_audit(self, record: AuditRecord) -> None: ...
    async def add_audits(self, records: Sequence[AuditRecord]) -> None: ...
    async def list_audit(
        self,
        domain: str,
        *,
        limit: int,
        cursor: str | None,
        where: AuditFilter | None = None,
    ) -> Page[AuditRecord]:
        """The domain's records, newest first, that match `where`."""
        ...

    async def delete_offline_workers(self, before: datetime) -> int:
        """Forget the workers that went offline with their last heartbeat before `before`
        (one that comes back is added again by its next heartbeat); returns how many."""
        ...

    async def delete_runs_before(
        self,
        cutoff: datetime,
        *,
        job_id: str | None,
        batch: int,
        exclude_jobs: Collection[str] = (),
    ) -> int:
        """Delete up to `batch` terminal runs created before `cutoff`, with their log chunks
        and analyses.

        Returns how many runs went; callers loop until it returns less than `batch`.
        """
        ...

    async def job_retention_days(self) -> dict[str, int]:
        """Jobs that override the run retention: job id -> days."""
        ...

    # notifications (hydra_jobs.notify) -------------------------------------------------------

    async def create_channel(self, channel: ChannelRecord) -> None:
        """Raises `Conflict` when the domain has a channel of that name."""
        ...

    async def get_channel(self, domain: str, name: str) -> ChannelRecord: ...
    async def list_channels(self, domain: str) -> list[ChannelRecord]: ...
    async def delete_channel(self, domain: str, name: str) -> None: ...

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Put deliveries in the outbox; one whose dedup key is there already is dropped.
        Returns the ones added."""
        ...

    async def claim_deliveries(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        """Take up to `limit` pending deliveries due at `now` for one attempt each: their attempt
        count goes up by one and they are not due again before `until` (if the attempt never
        finishes, the delivery is retried then). Returned with the new count."""
        ...

    async def finish_attempt(self, result: AttemptResult) -> bool:
        """Record how an attempt ended, if the delivery is still pending at that attempt."""
        ...

    async def list_deliveries(
        self, domain: str, flt: DeliveryFilter, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        """Newest first."""
        ...

    async def last_alert_at(
        self, domain: str, channel: str, job_id: str, event: NotifyEvent
    ) -> datetime | None:
        """When the job last alerted `event` on `channel` (pending, sent or failed; not muted
        or suppressed ones)."""
        ...

    async def delete_deliveries_before(self, cutoff: datetime, *, batch: int) -> int:
        """Delete up to `batch` deliveries created before `cutoff` that are no longer pending."""
        ...

    async def get_notify_settings(self, domain: str) -> tuple[NotifySettings, datetime | None]:
        """The domain's rules and maintenance windows, and when they were last set."""
        ...

    async def set_notify_settings(
        self, domain: str, settings: NotifySettings, now: datetime
    ) -> None: ...
    async def set_snooze(self, snooze: Snooze) -> None:
        """Mute a job's alerts until `snooze.until` (replaces its snooze)."""
        ...

    async def clear_snooze(self, domain: str, job_id: str) -> bool: ...
    async def list_snoozes(self, domain: str) -> list[Snooze]: ...
