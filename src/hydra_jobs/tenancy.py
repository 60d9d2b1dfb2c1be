"""The vocabulary of multi-tenancy: domains, their tokens, the caller, the audit log (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # pydantic (Rust regex): $ is the very end
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,99}$"
DEFAULT_DOMAIN = "default"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainCreate(_Strict):
    name: str = Field(
        pattern=DOMAIN_PATTERN,
        description="Lowercase letters, digits, '-' and '_'; at most 64 characters.",
        examples=["payments"],
    )
    description: str | None = Field(default=None, max_length=1000)


class DomainUpdate(_Strict):
    """Only the fields given change (an empty body clears the description, as it always did)."""

    description: str | None = Field(default=None, max_length=1000)
    ai_enabled: bool | None = Field(
        default=None,
        description="Allow AI providers (job generation, analysis by a model) for the domain; "
        "the built-in failure analyser always answers.",
    )


class Domain(BaseModel):
    name: str
    description: str | None = None
    created_at: datetime
    jobs: int = Field(default=0, description="How many jobs the domain holds.")
    tokens: int = Field(default=0, description="How many of its tokens are not revoked.")
    ai_enabled: bool = Field(default=True, description="Whether AI providers may be used.")


class TokenCreate(_Strict):
    name: str = Field(
        pattern=TOKEN_NAME_PATTERN,
        description="Who or what holds the token, e.g. 'ci' or 'worker-eu-1'.",
        examples=["ci"],
    )


class TokenInfo(BaseModel):
    """A token as listed: everything but the secret, which is never stored."""

    id: str
    domain: str
    name: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreated(TokenInfo):
    token: str = Field(description="The secret token. Shown once: store it now.")


class Me(BaseModel):
    """Who the caller is and which domain their calls act on."""

    domain: str
    actor: str
    is_admin: bool
    token_id: str | None = None


class AuditEntry(BaseModel):
    id: str
    domain: str
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    at: datetime
    details: dict[str, Any] = Field(default_factory=dict)
