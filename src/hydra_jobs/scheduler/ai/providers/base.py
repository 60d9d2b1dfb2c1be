"""What every provider client offers: one JSON completion against a schema, and its errors.

Clients turn their SDK's exceptions into `ProviderHttpError` (retryable or not, with the
provider's message and any Retry-After), `AiTimeout` or `AiProviderFailed`, so retries and HTTP
answers are decided once (`retry.py`, `scheduler/api/app.py`) for both providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from pydantic import BaseModel

from hydra_jobs.clock import utcnow
from hydra_jobs.errors import AiProviderFailed
from hydra_jobs.scheduler.ai.redact import Redactor
from hydra_jobs.scheduler.ai.schema import ProviderName, Usage

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    usage: Usage


class ProviderHttpError(AiProviderFailed):
    """The provider answered with an error status (or could not be reached: status None)."""

    def __init__(self, message: str, *, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUS


class Provider(Protocol):
    model: str

    @property
    def name(self) -> ProviderName: ...

    async def complete_json(
        self,
        system: str,
        user: str,
        schema: type[BaseModel],
        schema_name: str,
        model: str | None = None,
    ) -> Completion:
        """One answer as JSON text against `schema`; `model` overrides the configured one."""
        ...


def retry_after_seconds(headers: Any) -> float | None:
    """Retry-After (seconds or an HTTP date) or retry-after-ms, as seconds; None if absent."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def provider_message(name: str, status: int | None, message: str | None, key: str) -> str:
    """The provider's own words for a failure, with its key (and any secret shape) masked."""
    said = Redactor.of([key]).text((message or "no message").strip())[:MAX_MESSAGE_CHARS]
    code = f" ({status})" if status else ""
    return f"{name} refused the request{code}: {said}"
