"""The records of Hydra Jobs: stored jobs, runs, job versions, workers, pages, stats (pydantic).

What the system keeps and shows about the jobs whose definitions `job_spec.py` describes; no I/O.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from hydra_jobs.job_spec import MAX_ENV_VALUE_CHARS, JobSpec, Strict
from hydra_jobs.limits import STORED
from hydra_jobs.status import TERMINAL, RunStatus

T = TypeVar("T")


class Job(JobSpec):
    """A stored job: the spec plus what the system knows about it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    domain: str
    paused: bool = False
    created_at: datetime
    updated_at: datetime
    next_fire_at: datetime | None = None
    last_run_id: str | None = None
    last_run_status: RunStatus | None = None
    last_run_at: datetime | None = None
    version: int = Field(default=1, ge=1, description="The job's current version (its history).")
    waiting_reason: str | None = Field(
        default=None,
        description=(
            "Why a run of this job could not start now (no online worker reads its queue or has "
            "its `requires`); computed when read, never stored."
        ),
    )

    def spec(self) -> JobSpec:
        return JobSpec.model_validate(
            self.model_dump(include=set(JobSpec.model_fields)), context=STORED
        )


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    API = "api"
    RETRY = "retry"


class RunSummary(BaseModel):
    """One attempt at running a job, as lists and live events show it (no spec snapshot)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    job_id: str
    job_name: str
    domain: str
    queue: str = "default"
    status: RunStatus
    trigger: Trigger
    attempt: int = 1
    retry_of: str | None = None
    scheduled_for: datetime | None = None
    created_at: datetime
    not_before: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    error: str | None = None
    worker_id: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    source_commit: str | None = None
    resource_usage: dict[str, float] | None = None
    log_size: int = 0
    log_truncated: bool = False
    cancel_requested: bool = False
    lost_count: int = 0
    job_version: int | None = Field(
        default=None, description="The job's version the run was made from (its `spec`)."
    )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class Run(RunSummary):
    """One attempt at running a job. Each retry is a new Run; history is never overwritten.

    `spec` is the job's definition when the run was created, kept as the JSON it was stored as:
    it was validated when the job was saved, and hot paths (dispatch, ingest) never re-parse it.
    `job_spec()` gives the typed view where one is needed.
    """

    spec: dict[str, Any] = Field(description="The job definition this run executes (a snapshot).")

    def job_spec(self) -> JobSpec:
        return JobSpec.model_validate(self.spec, context=STORED)

    def summary(self) -> RunSummary:
        return RunSummary.model_validate(self.model_dump(exclude={"spec"}))

    def detail(self) -> RunDetail:
        return RunDetail.model_validate(self.model_dump(), context=STORED)


class RunDetail(RunSummary):
    """A run with its typed job definition snapshot, as `GET /runs/{id}` shows it."""

    spec: JobSpec = Field(description="The job definition this run executes (a snapshot).")
    waiting_reason: str | None = Field(
        default=None,
        description=(
            "Why a pending or queued run is not running yet, e.g. 'no online worker in domain "
            "prod has os=windows'; computed from the online workers when read."
        ),
    )


class JobChange(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RESTORE = "restore"
    IMPORT = "import"


class JobVersionSummary(BaseModel):
    """One saved version of a job: who changed it, when, and how."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    domain: str
    version: int
    change: JobChange
    actor: str = Field(description="Who made it: 'admin' or 'token:<name>'.")
    at: datetime
    restored_from: int | None = Field(default=None, description="The version a restore copied.")


class JobVersion(JobVersionSummary):
    """A version with its full spec; the diff is between it and the version before."""

    spec: JobSpec


class WorkerStatus(StrEnum):
    ONLINE = "online"
    DRAINING = "draining"
    OFFLINE = "offline"


class Worker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    domain: str
    name: str
    hostname: str
    platform: str
    version: str
    executors: list[str]
    tags: dict[str, str] = Field(default_factory=dict)
    queues: list[str]
    concurrency: int
    running: list[str] = Field(default_factory=list, description="Run ids in progress.")
    status: WorkerStatus
    started_at: datetime
    last_heartbeat_at: datetime


_PAGES: dict[tuple[type[BaseModel], Any], type[BaseModel]] = {}  # Page[X] by (Page, X)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        # Pydantic keeps a parametrized model only weakly: a `Page[Run]` that only code (not a
        # route's annotation) holds was built anew, about 4 ms of schema generation on the event
        # loop, after every full garbage collection. Kept here for the life of the process.
        kept = _PAGES.get((cls, params))
        if kept is not None:
            return kept
        made = super().__class_getitem__(params)
        if isinstance(made, type):
            _PAGES[(cls, params)] = made
        return made


ParamValue = Annotated[str, Field(max_length=MAX_ENV_VALUE_CHARS)]


class RunRequest(Strict):
    params: dict[str, ParamValue] = Field(default_factory=dict)
    trigger: Literal["api", "manual"] = Field(
        default="api", description="`manual` when a person pressed a button, else `api`."
    )


class BatchItem(Strict):
    params: dict[str, ParamValue] = Field(default_factory=dict)


MAX_BATCH_RUNS = 1000


class RunBatchRequest(Strict):
    runs: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_RUNS)
    trigger: Literal["api", "manual"] = "api"


class RunBatch(BaseModel):
    items: list[RunSummary]


class ValidationReport(BaseModel):
    valid: bool
    errors: list[dict[str, Any]] = Field(default_factory=list)
    next_fires: list[datetime] = Field(default_factory=list)


class StatusCount(BaseModel):
    status: RunStatus
    count: int


class HourBucket(BaseModel):
    hour: datetime
    counts: dict[str, int]


class JobStat(BaseModel):
    job_id: str
    job_name: str
    runs: int
    failures: int
    avg_seconds: float | None
    max_seconds: float | None


class Stats(BaseModel):
    """Dashboard numbers for one domain over a window ending now."""

    since: datetime
    counts: dict[str, int]
    hourly: list[HourBucket]
    success_rate: float | None
    slowest_jobs: list[JobStat]
    failing_jobs: list[JobStat]
    recent_failures: list[RunSummary]
    workers_online: int


class LogPage(BaseModel):
    data: str
    next_offset: int
    complete: bool
    truncated: bool
