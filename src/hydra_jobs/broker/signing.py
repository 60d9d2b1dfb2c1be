"""Message signing for the Redis data plane: the queue is not a trust boundary (RELIABILITY A4).

Anyone who can write to Redis can push entries into a queue stream, an events stream or a pub/sub
channel. Every message therefore carries an HMAC-SHA256 and is dropped (with an audit log line)
unless it verifies. There are two kinds of key, both derived from `ADMIN_TOKEN`, so nothing new has
to be stored or distributed besides one token per worker fleet:

- the *worker token* of a domain, `hw1.<base64url(HMAC(ADMIN_TOKEN, "hydra/worker-token/v1|" +
  domain))>`, which the operator gives workers as `API_TOKEN` (`hydra-jobs worker-token --domain
  D` prints it). Its signing key signs deliveries, cancel markers and control messages (scheduler
  to worker) and worker events (worker to scheduler) of that domain and no other. Schedulers can
  derive every domain's token; a worker holds only its own and never the admin token or the
  database credentials.
- the *scheduler key*, which only schedulers can derive. It signs live fan-out and the nudges
  between replicas, and every delivery carries a *ticket*, HMAC(scheduler key, run id | domain),
  that the worker echoes in the events of that run. A domain's worker can thus only report on runs
  the scheduler handed to that domain: a worker of domain A cannot forge the completion of a run
  of domain B even though events of both share one stream.

Signatures cover a purpose tag, the domain (and queue) and the exact payload bytes, so a signed
message cannot be replayed into another domain, another queue or another kind of message.
Rotating `ADMIN_TOKEN` rotates every key; workers then need their new token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

WORKER_TOKEN_PREFIX = "hw1."


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, hashlib.sha256)


def worker_token(admin_token: str, domain: str) -> str:
    """The credential a worker of `domain` needs (its `API_TOKEN`)."""
    raw = _mac(admin_token.encode(), b"hydra/worker-token/v1|" + domain.encode())
    return WORKER_TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _domain_key(token: str) -> bytes:
    return _mac(token.encode(), b"hydra/signing/v1")


class KeyRing(Protocol):
    """What a broker needs to sign and verify; `None` where this process holds no such key."""

    def domain_key(self, domain: str) -> bytes | None: ...
    @property
    def scheduler_key(self) -> bytes | None: ...


class SchedulerKeys:
    """A scheduler's keys: every domain's, derived on demand from the admin token."""

    def __init__(self, admin_token: str) -> None:
        self._admin = admin_token
        self._cache: dict[str, bytes] = {}
        self._scheduler = _mac(admin_token.encode(), b"hydra/scheduler/v1")

    def domain_key(self, domain: str) -> bytes:
        key = self._cache.get(domain)
        if key is None:
            key = self._cache[domain] = _domain_key(worker_token(self._admin, domain))
        return key

    @property
    def scheduler_key(self) -> bytes:
        return self._scheduler


class WorkerKeys:
    """A worker's keys: its own domain's, from its worker token; no scheduler key."""

    def __init__(self, domain: str, token: str) -> None:
        self.domain = domain
        self._key = _domain_key(token)

    def domain_key(self, domain: str) -> bytes | None:
        return self._key if domain == self.domain else None

    @property
    def scheduler_key(self) -> bytes | None:
        return None


def sign(key: bytes, purpose: str, scope: str, payload: bytes) -> str:
    """Hex HMAC over `purpose | scope | payload` (scope: domain, or domain and queue)."""
    return _mac(key, f"{purpose}|{scope}|".encode() + payload).hex()


def verify(key: bytes | None, purpose: str, scope: str, payload: bytes, signature: str) -> bool:
    if key is None or not signature:
        return False
    return hmac.compare_digest(sign(key, purpose, scope, payload), signature)


def ticket(scheduler_key: bytes, domain: str, run_id: str) -> str:
    """Proof, minted by a scheduler, that `run_id` was handed to `domain`."""
    return _mac(scheduler_key, f"ticket|{domain}|{run_id}".encode()).hex()[:32]


def check_ticket(scheduler_key: bytes, domain: str, run_id: str, value: object) -> bool:
    return isinstance(value, str) and hmac.compare_digest(
        ticket(scheduler_key, domain, run_id), value
    )
