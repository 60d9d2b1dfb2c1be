"""Bounds on what a tenant may submit, and the reasons for each (issue 13: no input or client
can hurt the server, and nothing is accepted that could never run).

Rules added after jobs were already saved apply to input only: what is in the store (jobs, run
snapshots) and in queues is validated with the `STORED` context, so an upgrade never makes a saved
job unreadable; the scheduler applies such rules where it acts (`Schedule.every_seconds`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from hydra_jobs.schedule import validate_timezone

# Linux refuses to start a program with one argument of 128 KiB or more (MAX_ARG_STRLEN, its
# terminating NUL included), or whose arguments and environment pass 2 MiB (a quarter of the
# usual 8 MiB stack): "Argument list too long".
MAX_ARGUMENT_BYTES = 128 * 1024 - 1  # a script given as `sh -c SCRIPT` or `python -c SCRIPT`
MAX_PARAMS_CHARS = 256 * 1024  # a run's parameters together (a 50 MB one was stored, then failed)
MAX_ENV_CHARS = 256 * 1024  # a job's `env` together
MIN_INTERVAL_SECONDS = 1.0  # 0.001 made 560 runs in 3 s
# A one-off time ends a year before the calendar does, so the scheduler's arithmetic on it (a
# grace period, a retry's delay) cannot run past the year 9999.
LATEST_AT = datetime(9999, 1, 1, tzinfo=UTC)

STORED: dict[str, Any] = {"stored": True}  # validation context: saved under older rules


def is_input(info: ValidationInfo) -> bool:
    """Whether a validator checks input (the newest rules) rather than what was saved."""
    return not (isinstance(info.context, dict) and info.context.get("stored"))


def vars_size(variables: dict[str, str]) -> int:
    """What environment variables weigh against MAX_PARAMS_CHARS or MAX_ENV_CHARS."""
    return sum(len(name) + len(value) for name, value in variables.items())


def params_too_big(params: dict[str, str]) -> str:
    return (
        f"{vars_size(params):,} characters (names and values); "
        f"a run's parameters may have {MAX_PARAMS_CHARS:,} together"
    )


def utc_time(value: datetime, zone: str = "UTC") -> datetime:
    """`value` in UTC, naive meaning in `zone`; refused if that is not a time Python can hold
    (9999-12-31 in America/Adak is past the year 9999 in UTC: an OverflowError, not a 422)."""
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=validate_timezone(zone))
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: in UTC this time is outside the years 1 to 9999") from None


UtcTime = Annotated[datetime, AfterValidator(utc_time)]
"""A time given to the API (naive = UTC), as UTC and never past the ends of the calendar."""
