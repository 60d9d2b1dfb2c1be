"""The vocabulary of multi-tenancy: domains, their tokens, the caller, the audit log (pydantic)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # pydantic (Rust regex): $ is the very end
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,99}$"
DEFAULT_DOMAIN = "default"


class Role(StrEnum):
    """What a domain token may do in its domain; each role can do everything of those before it.

    The admin token (configuration) stands above every role, in every domain.
    """

    viewer = "viewer"  # read everything of the domain
    operator = "operator"  # + trigger, cancel, retry, pause, resume, drain, run a worker
    editor = "editor"  # + create, change, delete, validate and import jobs
    owner = "owner"  # + the domain's tokens

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


ROLE_ORDER = (Role.viewer, Role.operator, Role.editor, Role.owner)
WORKER_ROLE = Role.operator  # a worker runs the domain's jobs and reports how they ended
ROLE_HELP = (
    "viewer: read; operator: + trigger, cancel, retry, pause, resume, drain, run workers; "
    "editor: + create, change, delete, validate and import jobs; owner: + the domain's tokens"
)


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
    role: Role = Field(
        # Omitted: owner, what every token could do before roles (the API contract stays as
        # it was). The CLI and the UI always name a role, and suggest a smaller one.
        default=Role.owner,
        description=f"What the token may do in its domain (default: owner). {ROLE_HELP}.",
        examples=["operator"],
    )


class TokenUpdate(_Strict):
    role: Role = Field(description=f"The token's new role. {ROLE_HELP}.")


class TokenInfo(BaseModel):
    """A token as listed: everything but the secret, which is never stored."""

    id: str
    domain: str
    name: str
    role: Role
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
    role: Role = Field(
        description="The token's role in the domain; the admin token has every role (`owner`, "
        "and `is_admin`)."
    )


class AuditEntry(BaseModel):
    id: str
    domain: str
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    at: datetime
    details: dict[str, Any] = Field(default_factory=dict)
