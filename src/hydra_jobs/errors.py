"""One root for every error Hydra Jobs raises on purpose.

The docstring of each class is its default message; the HTTP layer maps classes to status codes in
one place (`scheduler/api/app.py`), so services never think in HTTP.
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


class TooLarge(HydraError):
    """The request is larger than this API accepts."""


class RateLimited(HydraError):
    """Too many requests; try again later."""

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds until there is room again (Retry-After)


class TooManyRuns(RateLimited):
    """The domain has created as many runs as it may for now; retry later."""


class Unauthorized(HydraError):
    """A valid bearer token is required."""


class Forbidden(HydraError):
    """This needs the admin token."""


class BackendUnavailable(HydraError):
    """A backend (store or broker) cannot be used; its driver or server is missing."""


class ConfigError(HydraError):
    """The configuration is not valid."""


class AiNotConfigured(HydraError):
    """No AI provider is configured: set GEMINI_API_KEY or OPENAI_API_KEY."""


class AiDisabled(Forbidden):
    """AI features are disabled for this domain by the administrator."""


class AiProviderFailed(HydraError):
    """The AI provider refused or failed the request."""


class AiTimeout(HydraError):
    """The AI provider did not answer in time."""
