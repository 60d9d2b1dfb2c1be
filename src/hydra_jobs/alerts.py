"""The vocabulary of alerts and notifications (pydantic, no I/O): events, rules, channels and
deliveries; the job spec (`job_spec.py`) and the stores use it, `notify/` acts on it.

Channel secrets (a webhook's signing secret, a Slack webhook URL, an SMTP password) are accepted
on input and never shown again: `ChannelInfo` is what the API returns, `ChannelRecord` what the
store keeps.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

CHANNEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_RULES = 20
MAX_AFTER_FAILURES = 100  # failures in a row are counted over this many earlier runs
MAX_RECIPIENTS = 50
MIN_SECRET_CHARS = 16
ERROR_CHARS = 500  # of a run's error in a message


class NotifyEvent(StrEnum):
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    LOST = "lost"
    RETRIES_EXHAUSTED = "retries_exhausted"
    SUCCEEDED = "succeeded"
    RECOVERED = "recovered"
    MISSED = "missed"
    NOT_STARTED = "not_started"
    RUNNING_TOO_LONG = "running_too_long"
    TOO_FAST = "too_fast"
    TEST = "test"


FAILURE_EVENTS: frozenset[NotifyEvent] = frozenset(
    {
        NotifyEvent.FAILED,
        NotifyEvent.TIMED_OUT,
        NotifyEvent.LOST,
        NotifyEvent.RETRIES_EXHAUSTED,
    }
)
RULE_EVENTS = tuple(e.value for e in NotifyEvent if e is not NotifyEvent.TEST)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # given up: attempts used, or refused for good by the receiver
    MUTED = "muted"  # not sent: a maintenance window or the job's snooze
    SUPPRESSED = "suppressed"  # not sent: within the rule's re-alert interval


ALERTED: frozenset[DeliveryStatus] = frozenset(
    {DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Seconds = Annotated[float, Field(gt=0, le=30 * 86400)]


class NotifyRule(_Strict):
    """Which events of a job go to which channel (in a job spec's `notify`, or a domain rule)."""

    channel: str = Field(pattern=CHANNEL_NAME_PATTERN, description="A channel of the domain.")
    on: list[Literal[RULE_EVENTS]] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=len(RULE_EVENTS), description="Events that alert."
    )
    after_failures: int = Field(
        default=1,
        ge=1,
        le=MAX_AFTER_FAILURES,
        description="Failure events alert from the Nth failure in a row on (3: the 3rd and on).",
    )
    realert_seconds: Seconds | None = Field(
        default=None,
        description="After an alert, the same event of the job on this channel is suppressed "
        "for this long (a flapping job does not spam).",
    )
    not_started_seconds: Seconds = Field(
        default=60.0, description="`not_started`: no start this long after the slot."
    )
    longer_than_seconds: Seconds | None = Field(
        default=None, description="`running_too_long`: running longer than this."
    )
    longer_than_median: float | None = Field(
        default=None,
        gt=1.0,
        le=1000.0,
        description="`running_too_long`: running longer than this multiple of the job's median "
        "duration over its last successful runs (needs at least 3).",
    )
    shorter_than_seconds: Seconds | None = Field(
        default=None, description="`too_fast`: a success that took less than this."
    )

    @field_validator("on")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _thresholds(self) -> NotifyRule:
        if "running_too_long" in self.on and (
            self.longer_than_seconds is None and self.longer_than_median is None
        ):
            raise ValueError("'running_too_long' needs longer_than_seconds or longer_than_median")
        if "too_fast" in self.on and self.shorter_than_seconds is None:
            raise ValueError("'too_fast' needs shorter_than_seconds")
        return self

    def events(self) -> set[NotifyEvent]:
        return {NotifyEvent(e) for e in self.on}


class MaintenanceWindow(_Strict):
    """A time range in which the domain's alerts are muted (recorded as `muted`, not sent)."""

    start: datetime
    end: datetime
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("give start and end with a timezone (e.g. 2026-01-01T02:00:00Z)")
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self

    def covers(self, now: datetime) -> bool:
        return self.start <= now < self.end


class NotifySettings(_Strict):
    """A domain's rules (for every job that does not opt out) and maintenance windows."""

    rules: list[NotifyRule] = Field(default_factory=list, max_length=MAX_RULES)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list, max_length=100)


class NotifySettingsView(NotifySettings):
    updated_at: datetime | None = None
    muted_now: bool = Field(default=False, description="A maintenance window is open now.")


class Snooze(BaseModel):
    job_id: str
    domain: str
    until: datetime
    reason: str | None = None
    created_by: str
    created_at: datetime


class SnoozeRequest(_Strict):
    until: datetime = Field(description="Alerts of the job are muted until this time.")
    reason: str | None = Field(default=None, max_length=500)

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a timezone (e.g. 2026-01-01T08:00:00Z)")
        return value


# channels ------------------------------------------------------------------------------------


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("use an http:// or https:// URL")
    if any(ord(ch) < 0x21 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    return value


HttpUrl = Annotated[str, Field(min_length=8, max_length=2048), AfterValidator(_http_url)]


class WebhookChannelCreate(_Strict):
    name: str = Field(pattern=CHANNEL_NAME_PATTERN)
    type: Literal["webhook"]
    url: HttpUrl = Field(description="Receives a JSON POST per notification.")
    secret: str | None = Field(
        default=None,
        min_length=MIN_SECRET_CHARS,
        max_length=256,
        description="Signs every body (X-Hydra-Signature, HMAC-SHA256). Write-only.",
    )


class SlackChannelCreate(_Strict):
    name: str = Field(pattern=CHANNEL_NAME_PATTERN)
    type: Literal["slack"]
    url: HttpUrl = Field(description="The Slack incoming webhook URL (a secret: write-only).")


EMAIL_PATTERN = r"^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,255}$"


class EmailChannelCreate(_Strict):
    name: str = Field(pattern=CHANNEL_NAME_PATTERN)
    type: Literal["email"]
    host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:_-]+$")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="`tls`: TLS from the start (port 465); `none`: plain."
    )
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024, description="Write-only.")
    sender: str = Field(pattern=EMAIL_PATTERN)
    to: list[Annotated[str, Field(pattern=EMAIL_PATTERN)]] = Field(
        min_length=1, max_length=MAX_RECIPIENTS
    )
    ca_pem: str | None = Field(
        default=None,
        max_length=64 * 1024,
        description="PEM certificate(s) to trust for this server instead of the system's CAs "
        "(a private CA). Certificates are always verified.",
    )

    @field_validator("ca_pem")
    @classmethod
    def _loads(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ssl.create_default_context(cadata=value)
            except (ssl.SSLError, ValueError) as exc:
                raise ValueError(f"not a PEM certificate: {exc}") from None
        return value

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailChannelCreate:
        if (self.username is None) != (self.password is None):
            raise ValueError("give username and password together")
        return self


ChannelCreate = Annotated[
    WebhookChannelCreate | SlackChannelCreate | EmailChannelCreate, Field(discriminator="type")
]
SECRET_FIELDS = {"webhook": ("secret",), "slack": ("url",), "email": ("password",)}


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A channel as stored: `config` holds every field of its create body, secrets included."""

    domain: str
    name: str
    type: str
    config: dict[str, Any] = field(repr=False)
    created_at: datetime
    created_by: str


def redact_url(url: str) -> str:
    """An URL as shown back: scheme and host only (paths and queries often carry tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    bare = f"{parts.scheme}://{host}{port}"
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username
    return f"{bare}/…" if hidden else bare


class ChannelInfo(BaseModel):
    """A channel as the API shows it: never its secret, nor a Slack webhook's URL."""

    name: str
    type: Literal["webhook", "slack", "email"]
    target: str = Field(description="Where it sends (URLs shortened to their host).")
    has_secret: bool
    config: dict[str, Any] = Field(description="Its settings without the write-only ones.")
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, record: ChannelRecord) -> ChannelInfo:
        secret = SECRET_FIELDS.get(record.type, ())
        public = {
            k: v for k, v in record.config.items() if k not in secret and k not in ("name", "type")
        }
        if record.type == "email":
            target = f"{', '.join(record.config.get('to', []))} via {record.config.get('host')}"
        else:
            target = redact_url(str(record.config.get("url", "")))
            public.pop("url", None)
            public["url"] = target
        return cls(
            name=record.name,
            type=record.type,
            target=target,
            has_secret=any(record.config.get(k) for k in secret),
            config=public,
            created_at=record.created_at,
            created_by=record.created_by,
        )


# deliveries ----------------------------------------------------------------------------------


class Delivery(BaseModel):
    """One notification in the outbox: what, to which channel, and how its delivery went.

    `dedup_key` is stable for the event (the same on every retry, after every restart and on
    every replica): receivers use it to drop a delivery they have already seen (N1).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    domain: str
    channel: str
    channel_type: str
    event: NotifyEvent
    dedup_key: str
    job_id: str | None = None
    job_name: str | None = None
    run_id: str | None = None
    status: DeliveryStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    response_code: int | None = None
    error: str | None = None
    note: str | None = Field(default=None, description="Why it was muted or suppressed.")
    payload: dict[str, Any] = Field(default_factory=dict, description="The message sent.")


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    channel: str | None = None
    job_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt ended as, written back with a fence on the attempt number."""

    delivery_id: str
    attempt: int
    status: DeliveryStatus
    at: datetime
    next_attempt_at: datetime | None = None
    response_code: int | None = None
    error: str | None = None
