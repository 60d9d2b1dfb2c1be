"""A job's definition as users submit it: `JobSpec` and its parts (pydantic, no I/O).

The executor, git source, schedule, parameters, retries and concurrency, each with its checks.
`JobSpec` is the public contract (the OpenAPI schema, see docs/architecture.md): unknown fields are
rejected (A5 in docs/reliability.md) and every check names the field it failed on, so a 422 tells
the user exactly what to fix.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
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
    is_input,
    params_too_big,
    utc_time,
    vars_size,
)
from hydra_jobs.routing import MAX_ALTERNATIVES, MAX_REQUIRED_TAGS, TAG_KEY_RE, value_problem
from hydra_jobs.schedule import Catchup, CronSchedule, ScheduleError, validate_timezone

# A required tag's value: text, a boolean or a number, or a list of them (any of them).
RequiredValue = StrictBool | StrictInt | StrictFloat | StrictStr
RequiredTag = RequiredValue | list[RequiredValue]

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
    requires: dict[str, RequiredTag] = Field(
        default_factory=dict,
        description=(
            "Worker tags a run needs: only a worker whose tags have every one of them runs it "
            "(a list allows any of its values; booleans and numbers match the tag's text, "
            "`true`, `2`). A run waits on its queue until such a worker is online."
        ),
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

    @field_validator("requires")
    @classmethod
    def _required_tags(cls, value: dict[str, RequiredTag]) -> dict[str, RequiredTag]:
        if len(value) > MAX_REQUIRED_TAGS:
            raise ValueError(f"at most {MAX_REQUIRED_TAGS} tags")
        for key, item in value.items():
            if not TAG_KEY_RE.match(key):
                raise ValueError(f"'{key[:80]}' is not a valid tag name (letters, digits, _ . -)")
            items = item if isinstance(item, list) else [item]
            if not items or len(items) > MAX_ALTERNATIVES:
                raise ValueError(f"'{key}': a list has 1 to {MAX_ALTERNATIVES} values")
            for one in items:
                if (problem := value_problem(one)) is not None:
                    raise ValueError(f"'{key}': {problem}")
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
