"""MongoDB documents and indexes: how jobs, runs and log chunks are shaped for their queries.

Every id is the document's `_id` (UUIDv7 hex sorts by time, so "newest first" is `_id` descending
and a cursor is `_id < cursor`). Runs are flat documents whose fields are the API's run fields, so
each listing the UI makes (by domain, job, status, worker, time) has an index ending in `_id`.

Times are fixed-width ISO 8601 strings in UTC (`2026-03-01T12:00:00.123456+00:00`), not BSON dates:
a BSON date keeps milliseconds, and the API must read back the time it was given, as it does on
SQL. Fixed width makes string order time order, so ranges, sorts and indexes work unchanged.
Nothing here needs more than MongoDB 5.0.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError

from hydra_jobs.limits import STORED
from hydra_jobs.models import Job, Run
from hydra_jobs.store.base import AuditRecord, RunFilter, slot_key
from hydra_jobs.store.encoding import job_record

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
JOB_META = ("domain", "paused", "created_at", "updated_at", "next_fire_at")

# A slot key exists only on scheduled runs: a partial unique index ignores all other runs.
SLOT_KEY_INDEX = IndexModel(
    [("slot_key", ASCENDING)],
    name="uq_runs_slot_key",
    unique=True,
    partialFilterExpression={"slot_key": {"$type": "string"}},
)

INDEXES: dict[str, list[IndexModel]] = {
    "jobs": [
        IndexModel(
            [("domain", ASCENDING), ("name", ASCENDING)], name="uq_jobs_domain_name", unique=True
        ),
        IndexModel([("domain", ASCENDING), ("_id", DESCENDING)], name="ix_jobs_domain_id"),
        IndexModel([("has_schedule", ASCENDING)], name="ix_jobs_has_schedule"),
    ],
    "runs": [
        SLOT_KEY_INDEX,
        IndexModel([("domain", ASCENDING), ("_id", DESCENDING)], name="ix_runs_domain_id"),
        IndexModel(
            [("domain", ASCENDING), ("job_id", ASCENDING), ("_id", DESCENDING)],
            name="ix_runs_domain_job_id",
        ),
        IndexModel(
            [("domain", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)],
            name="ix_runs_domain_status_id",
        ),
        IndexModel(
            [
                ("domain", ASCENDING),
                ("job_id", ASCENDING),
                ("status", ASCENDING),
                ("_id", DESCENDING),
            ],
            name="ix_runs_domain_job_status_id",
        ),
        IndexModel(
            [("domain", ASCENDING), ("worker_id", ASCENDING), ("_id", DESCENDING)],
            name="ix_runs_domain_worker_id",
        ),
        IndexModel(
            [("domain", ASCENDING), ("created_at", ASCENDING), ("_id", DESCENDING)],
            name="ix_runs_domain_created_at",
        ),
        IndexModel([("status", ASCENDING), ("not_before", ASCENDING)], name="ix_runs_status_nb"),
        IndexModel(
            [("job_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
            name="ix_runs_job_status",
        ),
        IndexModel(
            [("job_id", ASCENDING), ("scheduled_for", DESCENDING)],
            name="ix_runs_job_slot",
            partialFilterExpression={"trigger": "schedule"},
        ),
        IndexModel([("created_at", ASCENDING)], name="ix_runs_created_at"),
    ],
    "log_chunks": [
        IndexModel([("run_id", ASCENDING), ("offset", ASCENDING)], name="uq_chunks", unique=True),
    ],
    "job_versions": [
        IndexModel(
            [("job_id", ASCENDING), ("version", DESCENDING)], name="uq_job_versions", unique=True
        ),
        IndexModel([("domain", ASCENDING)], name="ix_job_versions_domain"),
    ],
    "workers": [IndexModel([("domain", ASCENDING), ("_id", ASCENDING)], name="ix_workers_domain")],
    "audit": [
        IndexModel([("domain", ASCENDING), ("_id", DESCENDING)], name="ix_audit_domain_id"),
        # The audit page's filters (GET /audit?actor=&object_type=&object_id=), newest first.
        IndexModel(
            [("domain", ASCENDING), ("actor", ASCENDING), ("_id", DESCENDING)],
            name="ix_audit_domain_actor_id",
        ),
        IndexModel(
            [
                ("domain", ASCENDING),
                ("object_type", ASCENDING),
                ("object_id", ASCENDING),
                ("_id", DESCENDING),
            ],
            name="ix_audit_domain_object_id",
        ),
    ],
    "tokens": [IndexModel([("domain", ASCENDING), ("_id", ASCENDING)], name="ix_tokens_domain_id")],
    "analyses": [
        IndexModel(
            [("domain", ASCENDING), ("job_id", ASCENDING), ("fingerprint", ASCENDING)],
            name="ix_analyses_domain_job_fingerprint",
        )
    ],
}


def ts(value: datetime) -> str:
    """A time as stored: fixed-width ISO 8601 in UTC, so string order is time order."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def encode(value: Any) -> Any:
    """`value` with every datetime in it (at any depth) stored as `ts`."""
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def encode_doc(doc: Doc) -> Doc:
    return {k: encode(v) for k, v in doc.items()}


def parse_ts(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def need_ts(value: Any) -> datetime:
    when = parse_ts(value)
    if when is None:
        raise ValueError("a stored time is missing")
    return when


def job_doc(job: Job) -> Doc:
    record = job_record(job)
    record["_id"] = record.pop("id")
    return encode_doc(record)


def job_from(doc: Doc) -> Job:
    data = dict(doc["spec"])
    data.update({k: doc.get(k) for k in JOB_META})
    data["version"] = doc.get("version") or 1  # saved before job history: its first version
    data["id"] = doc["_id"]
    return Job.model_validate(data, context=STORED)


def run_doc(run: Run) -> Doc:
    doc = encode_doc(run.model_dump(mode="python"))
    doc["_id"] = doc.pop("id")
    doc["status"] = run.status.value
    doc["trigger"] = run.trigger.value
    key = slot_key(run)
    if key is not None:
        doc["slot_key"] = key  # absent otherwise: the partial unique index skips the run
    return doc


def run_from(doc: Doc) -> Run:
    data = dict(doc)
    data["id"] = data.pop("_id")
    data.pop("slot_key", None)
    return Run.model_validate(data)


def run_query(domain: str, flt: RunFilter) -> Doc:
    query: Doc = {"domain": domain}
    if flt.job_id:
        query["job_id"] = flt.job_id
    if flt.status:
        query["status"] = {"$in": [s.value for s in flt.status]}
    if flt.worker_id:
        query["worker_id"] = flt.worker_id
    created: Doc = {}
    if flt.since:
        created["$gte"] = ts(flt.since)
    if flt.until:
        created["$lt"] = ts(flt.until)
    if created:
        query["created_at"] = created
    return query


def duplicate_slots(exc: BulkWriteError) -> set[int]:
    """Indexes of the runs refused for an existing slot key; any other failure is raised."""
    details = exc.details
    if details.get("writeConcernErrors"):
        raise exc
    dropped: set[int] = set()
    for error in details.get("writeErrors", []):
        pattern = error.get("keyPattern") or {}
        is_slot = "slot_key" in pattern or "uq_runs_slot_key" in str(error.get("errmsg", ""))
        if error.get("code") != DUPLICATE_KEY or not is_slot:
            raise exc
        dropped.add(int(error["index"]))
    return dropped


def audit_doc(record: AuditRecord) -> Doc:
    return {
        "_id": record.id,
        "domain": record.domain,
        "actor": record.actor,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "at": ts(record.at),
        "details": encode_doc(record.details),
    }


def audit_from(doc: Doc) -> AuditRecord:
    return AuditRecord(
        id=doc["_id"],
        domain=doc["domain"],
        actor=doc["actor"],
        action=doc["action"],
        object_type=doc["object_type"],
        object_id=doc.get("object_id"),
        at=need_ts(doc["at"]),
        details=dict(doc.get("details") or {}),
    )
