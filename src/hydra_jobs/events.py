"""Every event Hydra Jobs sends, as typed models: what each kind holds, how it goes on the wire.

Three streams carry events (and two more carry messages: `ControlMessage` from schedulers to
workers, cancel/abort/drain/revoked; `SchedulerNotice` between scheduler replicas):
- worker -> scheduler, through the broker's event stream: `Started`, `Output`, `Finished` (of a
  run) and `Heartbeat` (the worker's own state), the union `WorkerEvent`, discriminated by `type`.
  Ingest applies them to the store; what comes from Redis is checked by `parse_worker_event`
  (a malformed event becomes None: it is dropped and logged, never raised into a batch);
- scheduler -> browsers, through the broker's live fan-out and then `GET /events` (SSE):
  `RunEvent`, `JobEvent`, `WorkerStateEvent` and `LogEvent`, the union `LiveEvent`, plus the
  stream's own `ResetEvent` and `ReadyEvent`;
- one run's output, `GET /runs/{id}/logs/stream` (SSE): `LogChunkEvent` and `LogEndEvent`.

The browser-facing models are in the OpenAPI schema (`scheduler/routes/events.py`), so the UI's
types are generated from them (`ui/src/api/schema.d.ts`).

`wire(event)` is what is sent: the fields the sender set, in the order declared here; an optional
field a sender did not set is absent, not null (a run, job or worker inside is sent whole). The
Redis stream is read by workers and schedulers of the same version during a rolling upgrade, so
these shapes are a contract: a new field must be optional, and readers ignore fields they do not
know (`extra="ignore"`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
)

from hydra_jobs.models import Job, RunSummary, Worker
from hydra_jobs.status import FINISH, RunStatus


def _always_sent(schema: dict[str, Any]) -> None:
    """`type` and `domain` are on every event that is sent: required in the published schema
    (clients discriminate on `type`), though a sender need not name them."""
    sent = [name for name in ("type", "domain") if name in schema.get("properties", {})]
    schema["required"] = [*sent, *(n for n in schema.get("required", []) if n not in sent)]


class _Event(BaseModel):
    """Unknown fields are ignored (a newer sender); `type` always counts as set (see `wire`)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_always_sent)

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.add("type")


def wire(event: BaseModel) -> dict[str, Any]:
    """The JSON-ready dict of an event: the fields that were set, in declaration order (only at
    the top: a run or a job inside an event is whole, as the API shows it)."""
    return event.model_dump(mode="json", include=event.model_fields_set)


# worker -> scheduler -----------------------------------------------------------------------------


def _a_finish(status: RunStatus) -> RunStatus:
    if status not in FINISH.targets:
        raise ValueError(f"a run does not finish as {status.value}")
    return status


# What a worker may report a run ended as (`lost`: it had to stop a run it was not asked to stop).
FinishStatus = Annotated[RunStatus, AfterValidator(_a_finish)]


# As workers have always sent times: `datetime.isoformat()` (`+00:00`, where pydantic writes `Z`).
WireTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class _RunReport(_Event):
    domain: str = ""
    run_id: str
    worker_id: str


class Started(_RunReport):
    """The worker started the run's process (`pid` 0: it never could; its end follows)."""

    type: Literal["started"] = "started"
    pid: int | None = None
    at: WireTime
    source_commit: str | None = None


class Output(_RunReport):
    """A chunk of the run's output, starting at `offset` (characters) of its log."""

    type: Literal["output"] = "output"
    offset: int
    data: str
    truncated: bool = False  # the log is capped after this chunk (the store marks it)


class Finished(_RunReport):
    """The run ended; `log_size` is its output's length (St5: the log is complete at that size)."""

    type: Literal["finished"] = "finished"
    status: FinishStatus
    exit_code: int | None = None
    error: str | None = None
    resource_usage: dict[str, int | float] | None = None
    at: WireTime
    log_truncated: bool = False
    source_commit: str | None = None
    log_size: int | None = None


class Heartbeat(_Event):
    """The worker's state, sent when it starts, beats, drains and stops."""

    type: Literal["worker"] = "worker"
    domain: str = ""
    worker: Worker

    @field_validator("worker", mode="before")
    @classmethod
    def _known_fields(cls, value: Any) -> Any:
        # Fields a newer worker adds are ignored rather than refused (`Worker` itself forbids
        # unknown fields): a rolling upgrade must not stop ingest.
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k in Worker.model_fields}
        return value

    @field_serializer("worker")
    def _worker_on_the_wire(self, worker: Worker) -> dict[str, Any]:
        times = {"started_at": worker.started_at, "last_heartbeat_at": worker.last_heartbeat_at}
        return worker.model_dump(mode="json") | {k: v.isoformat() for k, v in times.items()}


WorkerEvent = Annotated[Started | Output | Finished | Heartbeat, Field(discriminator="type")]
_WORKER_EVENT: TypeAdapter[WorkerEvent] = TypeAdapter(WorkerEvent)


def parse_worker_event(raw: Any) -> WorkerEvent:
    """Validate one event read from the broker; raises `ValidationError` if it is malformed."""
    return _WORKER_EVENT.validate_python(raw)


def worker_event_or_none(raw: Any) -> WorkerEvent | None:
    try:
        return parse_worker_event(raw)
    except ValidationError:
        return None


# scheduler -> browsers (`GET /events`) -----------------------------------------------------------


# Each live event ends with `domain`, set by the broker when it hands the event out: the domain
# the event was published to (declared last in each, where it has always been on the wire).
_SUMMARY_FIELDS = tuple(RunSummary.model_fields)


def _live_domain() -> Any:
    return Field("", description="The domain of the change (the caller's).")


class RunEvent(_Event):
    """A run changed (created, started, ended, ...): the run as it now stands."""

    type: Literal["run"] = "run"
    run: RunSummary
    domain: str = _live_domain()

    @classmethod
    def of(cls, run: RunSummary) -> RunEvent:
        """The event of a run or of a subclass of it (a `Run`, with its spec): the summary
        alone is kept, so a replay buffer never holds a run's spec."""
        if type(run) is not RunSummary:
            run = RunSummary.model_construct(**{k: getattr(run, k) for k in _SUMMARY_FIELDS})
        return cls(run=run)


class JobEvent(_Event):
    """A job was created, changed or deleted (`deleted`, and no `job`)."""

    type: Literal["job"] = "job"
    job_id: str
    deleted: bool
    job: Job | None = None
    domain: str = _live_domain()


class WorkerStateEvent(_Event):
    """A worker's state (its heartbeat, a drain, its end)."""

    type: Literal["worker"] = "worker"
    worker: Worker
    domain: str = _live_domain()


class LogEvent(_Event):
    """Output of a run, as it is stored (`offset` in characters)."""

    type: Literal["log"] = "log"
    run_id: str
    offset: int
    data: str
    domain: str = _live_domain()


LiveEvent = Annotated[
    RunEvent | JobEvent | WorkerStateEvent | LogEvent, Field(discriminator="type")
]
_LIVE_EVENT: TypeAdapter[LiveEvent] = TypeAdapter(LiveEvent)


def parse_live_event(raw: Any) -> LiveEvent:
    """Validate one live event read from the broker; raises `ValidationError` if malformed."""
    return _LIVE_EVENT.validate_python(raw)


def live_event_bytes(event: LiveEvent) -> int:
    """The log text an event holds (the bulk of a big event); other events hold none."""
    return len(event.data) if isinstance(event, LogEvent) else 0


class ResetEvent(BaseModel):
    """The stream could not resume from `Last-Event-ID`: refetch what you show."""

    reason: str


class ReadyEvent(BaseModel):
    """The stream is live, for these types of the caller's domain."""

    domain: str
    types: list[str]


# scheduler -> workers (control) ------------------------------------------------------------------


class Cancel(_Event):
    """Stop the run (its cancel was requested); also a durable marker (St2)."""

    type: Literal["cancel"] = "cancel"
    run_id: str


class Abort(_Event):
    """Stop this copy of the run: its start was refused (another copy owns the run)."""

    type: Literal["abort"] = "abort"
    run_id: str
    worker_id: str


class Drain(_Event):
    """Take no more runs; exit once the running ones end."""

    type: Literal["drain"] = "drain"
    worker_id: str


class Revoked(_Event):
    """The token was revoked: its workers stop."""

    type: Literal["revoked"] = "revoked"
    token_id: str


ControlMessage = Annotated[Cancel | Abort | Drain | Revoked, Field(discriminator="type")]
_CONTROL: TypeAdapter[ControlMessage] = TypeAdapter(ControlMessage)


def control_or_none(raw: Any) -> ControlMessage | None:
    """A control message read from the broker, or None if it is not shaped like one."""
    try:
        return _CONTROL.validate_python(raw)
    except ValidationError:
        return None


# scheduler -> scheduler replicas -----------------------------------------------------------------


class SchedulerNotice(BaseModel):
    """A hint between replicas: jobs changed (or too many: `resync`), runs wait for dispatch,
    tokens were revoked. `origin` is the sender (it skips its own)."""

    model_config = ConfigDict(extra="ignore")

    origin: str
    dispatch: bool = False
    jobs: list[str] | None = None
    resync: bool = False
    revoked: list[str] | None = None


def notice_or_none(raw: Any) -> SchedulerNotice | None:
    try:
        return SchedulerNotice.model_validate(raw)
    except ValidationError:
        return None


# one run's output (`GET /runs/{id}/logs/stream`) -------------------------------------------------


class LogChunkEvent(BaseModel):
    """Output from `offset` (characters); the SSE id is the offset after it."""

    offset: int
    data: str


class LogEndEvent(BaseModel):
    """The run is over and all its output was sent."""

    status: RunStatus
    exit_code: int | None
    error: str | None
    truncated: bool
