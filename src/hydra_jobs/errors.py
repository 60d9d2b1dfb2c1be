"""One root for every error Hydra Jobs raises on purpose.

The docstring of each class is its default message; the HTTP layer maps classes to status codes in
one place (`scheduler/app.py`), so services never think in HTTP.
"""

from __future__ import annotations

from hydra_jobs.ids import is_id


class HydraError(Exception):
    """Hydra Jobs failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(HydraError):
    """The object does not exist in this domain."""


def job_not_found(job_id: str) -> NotFound:
    """A job that is not there; a name where the id belongs is told how to find the id (the CLI
    takes names, the API ids, and `POST /jobs/my-job/run` was a puzzling 404)."""
    if is_id(job_id):
        return NotFound(f"job '{job_id}' not found")
    return NotFound(
        f"job '{job_id[:200]}' not found: the API names jobs by id "
        f"(GET /api/v1/jobs?search={job_id[:200]} finds a job's id by its name)"
    )


class Conflict(HydraError):
    """The object is not in a state that allows this change."""


class InvalidInput(HydraError):
    """The input is not valid."""

    def __init__(self, message: str | None = None, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class Unauthorized(HydraError):
    """A valid bearer token is required."""


class Forbidden(HydraError):
    """This needs the admin token."""


class TooManyRequests(HydraError):
    """Too many requests: try again later."""

    def __init__(self, message: str | None = None, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StaleTransition(HydraError):
    """The run was not in the expected state; the change was not applied."""


class BackendUnavailable(HydraError):
    """A backend (store or broker) cannot be used; its driver or server is missing."""


class ConfigError(HydraError):
    """The configuration is not valid."""
