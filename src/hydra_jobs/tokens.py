"""Domain API tokens: their wire format, and what the store keeps of them (A1, docs/reliability.md).

A token reads `hjt_<id>_<secret>`: the id (a UUIDv7 hex) names the stored record so a lookup is one
primary-key read; the secret is 256 random bits. The store keeps two one-way derivatives, never the
secret: `secret_hash`, compared in constant time to authenticate API calls, and `worker_key`, the
HMAC key a worker holding the token signs its Redis events with (schedulers check them with it).
Both come from a 256-bit random secret, so a fast hash is the right tool: there is nothing to guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from hydra_jobs.ids import new_id
from hydra_jobs.tenancy import WORKER_ROLE, Role

TOKEN_PREFIX = "hjt_"
SECRET_BYTES = 32  # 256 bits
_TOKEN_RE = re.compile(r"^hjt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ParsedToken:
    token_id: str
    secret: str = field(repr=False)

    @property
    def secret_hash(self) -> str:
        return secret_hash(self.secret)

    @property
    def worker_key(self) -> bytes:
        return worker_key(self.secret)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly minted token: `value` is shown to its owner once and then forgotten."""

    token_id: str
    value: str = field(repr=False)
    secret_hash: str = field(repr=False)
    worker_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored domain token: hashes of its secret (see `hydra_jobs.tokens`), never the secret."""

    id: str
    domain: str
    name: str
    secret_hash: str = field(repr=False)
    worker_key: str = field(repr=False)  # hex
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    role: Role = Role.owner  # tokens made before roles existed could do everything: owners

    @property
    def can_work(self) -> bool:
        """May a worker use it (run the domain's jobs, report their ends)? Not a viewer's."""
        return self.revoked_at is None and self.role.allows(WORKER_ROLE)


def mint() -> NewToken:
    token_id = new_id()
    secret = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()
    return NewToken(
        token_id=token_id,
        value=f"{TOKEN_PREFIX}{token_id}_{secret}",
        secret_hash=secret_hash(secret),
        worker_key=worker_key(secret),
    )


def parse(value: str) -> ParsedToken | None:
    """The parts of a domain token, or `None` when `value` is not shaped like one."""
    match = _TOKEN_RE.fullmatch(value)
    if match is None:
        return None
    return ParsedToken(token_id=match.group(1), secret=match.group(2))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(b"hydra/token/v1|" + secret.encode()).hexdigest()


def worker_key(secret: str) -> bytes:
    return hmac.digest(secret.encode(), b"hydra/worker-key/v1", hashlib.sha256)


def matches(parsed: ParsedToken, stored_hash: str) -> bool:
    return hmac.compare_digest(parsed.secret_hash.encode(), stored_hash.encode())
