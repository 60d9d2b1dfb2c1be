"""The vocabulary of Hydra Jobs: job specs, jobs, runs, workers (pydantic, no I/O).

`JobSpec` is the public contract (the OpenAPI schema, see docs/architecture.md): unknown fields are
rejected (A5 in docs/reliability.md) and every check names the field it failed on, so a 422 tells
the user exactly what to fix.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hydra_jobs.alerts import MAX_RULES, NotifyRule
from hydra_jobs.git_errors import GitInputRefused
from hydra_jobs.git_inputs import parse_repo_url, ref_problem
from hydra_jobs.job_env import RESERVED_ENV_PREFIX, param_env_name, shebang
from hydra_jobs.limits import (
    LATEST_AT,
    MAX_ARGUMENT_BYTES,
    MAX_ENV_CHARS,
    MAX_PARAMS_CHARS,
    MIN_INTERVAL_SECONDS,
    STORED,
    is_input,
    params_too_big,
    utc_time,
    vars_size,
)
from hydra_jobs.schedule import Catchup, CronSchedule, ScheduleError, validate_timezone
from hydra_jobs.status import TERMINAL, RunStatus

T = TypeVar("T")

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,199}$"
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_SCRIPT_CHARS = 256 * 1024
MAX_ENV_VALUE_CHARS = 32 * 1024
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
MAX_ATTEMPTS = 100


class Strict(BaseModel):
    # No NaN or infinity: JSON has neither (Python's parser reads them, and 1e400 as infinity).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, allow_inf_nan=False)


class ExecutorType(StrEnum):
    SHELL = "shell"
    PYTHON = "python"
    BATCH = "batch"


class Executor(Strict):
    type: ExecutorType = Field(description="shell | python | batch (batch runs on Windows workers)")
    script: str = Field(
        min_length=1,
        max_length=MAX_SCRIPT_CHARS,
        description="The command or code to run (Python source for `python`).",
    )
    interpreter: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="For `python`: the interpreter to use instead of the worker's own.",
    )

    @field_validator("script")
    @classmethod
    def _script_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("script must not be blank")
        return value

    @field_validator("script")
    @classmethod
    def _fits_one_argument(cls, value: str, info: ValidationInfo) -> str:
        # A script the worker passes as `sh -c SCRIPT` or `python -c SCRIPT` is one argument,
        # and Linux refuses to start a program with an argument of 128 KiB or more.
        on_file = info.data.get("type") is ExecutorType.SHELL and shebang(value) is not None
        size = len(value.encode("utf-8", "surrogatepass"))
        if not on_file and size > MAX_ARGUMENT_BYTES and is_input(info):
            raise ValueError(
                f"{size:,} bytes; a script given on the command line may have "
                f"{MAX_ARGUMENT_BYTES:,} (Linux's limit on one argument). Start a shell script "
                "with a #! line (it then runs from a file), or keep it in a git source"
            )
        return value


def _no_leading_dash(value: str) -> str:
    if value.startswith("-"):
        raise ValueError("must not start with '-'")
    return value


class Source(Strict):
    url: Annotated[str, AfterValidator(_no_leading_dash)] = Field(
        min_length=1, max_length=2048, description="Git repository URL (https, ssh)."
    )
    ref: Annotated[str, AfterValidator(_no_leading_dash)] | None = Field(
        default=None, min_length=1, max_length=255, description="Branch, tag or commit."
    )
    path: str | None = Field(
        default=None, max_length=1024, description="Working directory inside the checkout."
    )

    @field_validator("url")
    @classmethod
    def _allowed_scheme(cls, value: str) -> str:
        if "::" in value.split("/", 1)[0]:
            raise ValueError("transport helpers like 'ext::' are not allowed")
        scp_like = re.match(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:", value)
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme not in {"https", "ssh", "file"} and not scp_like:
            raise ValueError("use an https:// or ssh:// URL (or user@host:path)")
        try:
            # The worker's own rules (host, port, user, characters), so a bad URL is a 422 here
            # rather than a failed run. Whether file:// is allowed is each worker's setting.
            parse_repo_url(value, allow_file=True)
        except GitInputRefused as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("ref")
    @classmethod
    def _ref_format(cls, value: str | None) -> str | None:
        if value is not None and (problem := ref_problem(value)) is not None:
            raise ValueError(f"not a valid branch, tag or commit: it {problem}")
        return value

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError("must be relative to the checkout")
        if ".." in re.split(r"[\\/]", value):
            raise ValueError("must not contain '..'")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise ValueError("must not contain control characters")
        return value


class Schedule(Strict):
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="5 fields, or 6 with seconds first; evaluated in `timezone`.",
        examples=["0 2 * * *"],
    )
    timezone: str | None = Field(default=None, description="IANA timezone name (default UTC).")
    # The minimum is checked below (only for input, see STORED), and shown in the schema.
    interval_seconds: (
        Annotated[
            float, Field(le=366 * 24 * 3600, json_schema_extra={"minimum": MIN_INTERVAL_SECONDS})
        ]
        | None
    ) = Field(default=None, description="Seconds between runs, at least 1.")
    at: datetime | None = Field(default=None, description="One-off time (naive = `timezone`).")

    # Field validators first, so a 422 names `schedule.cron` or `schedule.timezone` itself.
    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_timezone(value)
            except ScheduleError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("interval_seconds")
    @classmethod
    def _interval_at_least(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value < MIN_INTERVAL_SECONDS and is_input(info):
            raise ValueError(f"must be at least {MIN_INTERVAL_SECONDS:g} second")
        if value is not None and value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator("at")
    @classmethod
    def _at_in_range(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is not None:  # `timezone` is validated first: it is in `info.data` if valid
            if utc_time(value, info.data.get("timezone") or "UTC") >= LATEST_AT:
                raise ValueError(f"must be before {LATEST_AT.date().isoformat()} (UTC)")
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CronSchedule.parse(value, "UTC")
            except ScheduleError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        kinds = [k for k in ("cron", "interval_seconds", "at") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of 'cron', 'interval_seconds' or 'at'")
        if self.timezone is not None and self.interval_seconds is not None:
            raise ValueError("'timezone' applies to 'cron' and 'at' only")
        return self

    @property
    def kind(self) -> Literal["cron", "interval", "at"]:
        if self.cron is not None:
            return "cron"
        if self.interval_seconds is not None:
            return "interval"
        return "at"

    def at_utc(self) -> datetime | None:
        if self.at is None:
            return None
        return utc_time(self.at, self.timezone or "UTC")

    def every_seconds(self) -> float | None:
        """The interval the scheduler keeps: an older job's sub-second one runs each second."""
        if self.interval_seconds is None:
            return None
        return max(MIN_INTERVAL_SECONDS, self.interval_seconds)

    def cron_schedule(self) -> CronSchedule | None:
        if self.cron is None:
            return None
        return CronSchedule.parse(self.cron, self.timezone or "UTC")


class Param(Strict):
    default: str | None = Field(default=None, max_length=MAX_ENV_VALUE_CHARS)
    description: str | None = Field(default=None, max_length=1000)
    required: bool = False


class Retries(Strict):
    max_attempts: int = Field(default=1, ge=1, le=MAX_ATTEMPTS, description="1 = no retry.")
    backoff_seconds: float = Field(default=10.0, ge=0, le=86400)
    backoff_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    max_backoff_seconds: float = Field(default=600.0, ge=0, le=7 * 86400)
    jitter: float = Field(default=0.1, ge=0.0, le=0.5, description="± fraction of each delay.")


class Overlap(StrEnum):
    ALLOW = "allow"
    SKIP = "skip"
    QUEUE = "queue"
    CANCEL_PREVIOUS = "cancel_previous"


class Concurrency(Strict):
    max_running: int | None = Field(
        default=None, ge=1, le=100_000, description="Runs of this job active at once (None: any)."
    )
    overlap: Overlap = Overlap.ALLOW


def _check_params_together(params: dict[str, Param]) -> None:
    """Rules across a job's parameters, for input (see STORED)."""
    seen: dict[str, str] = {}
    for key in params:
        variable = param_env_name(key)  # the worker's own naming
        if variable in seen:
            raise ValueError(
                f"'{seen[variable]}' and '{key}' would both reach the job as {variable}: "
                "rename one (parameter names are not case-sensitive)"
            )
        seen[variable] = key
    defaults = {k: p.default for k, p in params.items() if p.default is not None}
    if vars_size(defaults) > MAX_PARAMS_CHARS:
        raise ValueError(f"the defaults are {params_too_big(defaults)}")


class JobSpec(Strict):
    """A job definition as users submit it."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique within the domain.")
    description: str | None = Field(default=None, max_length=4000)
    executor: Executor
    source: Source | None = None
    schedule: Schedule | None = None
    env: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Param] = Field(default_factory=dict)
    timeout_seconds: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: Retries = Field(default_factory=Retries)
    concurrency: Concurrency = Field(default_factory=Concurrency)
    catchup: Catchup = Catchup.NONE
    queue: str = Field(default="default", pattern=QUEUE_PATTERN)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=32
    )
    enabled: bool = True
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    keep_daemons: bool = Field(
        default=False,
        description=(
            "Let processes the job detached into a session of their own (daemons) keep running "
            "after the run ends. By default every process a run started is killed at its end."
        ),
    )
    notify: list[NotifyRule] = Field(
        default_factory=list,
        max_length=MAX_RULES,
        description="Alert rules: which events of this job go to which channel.",
    )
    domain_notify: bool = Field(
        default=True, description="Whether the domain's alert rules apply to this job too."
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if len(value) > 200:
            raise ValueError("at most 200 variables")
        for key, item in value.items():
            if not ENV_NAME_RE.match(key):
                raise ValueError(f"'{key}' is not a valid variable name (letters, digits, _)")
            if key.upper().startswith(RESERVED_ENV_PREFIX):
                raise ValueError(f"'{key}': HYDRA_* names are reserved for run metadata")
            if len(item) > MAX_ENV_VALUE_CHARS or "\x00" in item:
                raise ValueError(f"'{key}': value too long or contains NUL")
        if is_input(info) and vars_size(value) > MAX_ENV_CHARS:
            raise ValueError(
                f"{vars_size(value):,} characters (names and values); "
                f"a job's env may have {MAX_ENV_CHARS:,} together"
            )
        return value

    @field_validator("params")
    @classmethod
    def _param_names(cls, value: dict[str, Param], info: ValidationInfo) -> dict[str, Param]:
        if len(value) > 100:
            raise ValueError("at most 100 parameters")
        for key in value:
            if not PARAM_NAME_RE.match(key):
                raise ValueError(f"'{key}' is not a valid parameter name (letters, digits, _)")
        if is_input(info):
            _check_params_together(value)
        return value

    @model_validator(mode="after")
    def _catchup_needs_schedule(self) -> JobSpec:
        if self.catchup is not Catchup.NONE and (
            self.schedule is None or self.schedule.cron is None
        ):
            raise ValueError("'catchup' applies to cron schedules only")
        return self


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
