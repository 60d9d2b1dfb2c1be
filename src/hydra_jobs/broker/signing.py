"""Message signing for the Redis data plane: the queue is not a trust boundary (A4 in
docs/reliability.md).

Anyone who can write to Redis can push entries into a queue stream, an events stream or a pub/sub
channel. Every message therefore carries a signature and is dropped (with a log line) unless it
verifies. Three kinds of key:

- *down* (scheduler to worker: deliveries, cancel/abort/drain markers, control messages): an
  Ed25519 signature by the schedulers' key pair, derived from `ADMIN_TOKEN`. Workers hold only
  the public key, so no worker, however compromised, can forge work for another worker.
- *up* (worker to scheduler: run and worker events): an HMAC with the *worker key* of the domain
  token the worker runs with (`hydra_jobs.tokens`), naming the token. Schedulers look the key up
  in the store, so a revoked token's events are refused, and a token of domain A cannot report
  for domain B. Every delivery also carries a *ticket*, HMAC(scheduler key, domain | run id), that
  the worker echoes: a worker can only report on runs handed to its domain.
- the *scheduler key* (HMAC, schedulers only): live fan-out and nudges between replicas, tickets.

How a worker learns the public key without trusting Redis: for every active token, schedulers
publish a *credential*, {domain, public key, HMAC(worker key, id | domain | public key)}; the
worker checks the HMAC with the key its own token gives it (`check_credential`).

Signatures cover a purpose tag, a scope (the domain, and for deliveries the queue and ticket) and
the exact payload bytes, so a signed message cannot be replayed into another domain, another
queue or another kind of message. Rotating `ADMIN_TOKEN` rotates the key pair; schedulers then
republish every credential and running workers pick the new public key up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from hydra_jobs.ids import is_id
from hydra_jobs.tokens import TokenRecord

INTERNAL_KEY_ID = "internal"  # workers that hold the admin token (the embedded one)
TOKEN_CACHE_SECONDS = 1.0  # how stale a scheduler's view of a token's revocation may be
MAX_CACHED_TOKENS = 10_000  # beyond it, expired entries go (ids come from Redis: untrusted)

TokenLookup = Callable[[str], Awaitable[TokenRecord | None]]


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, hashlib.sha256)


def frame(purpose: str, scope: str, payload: bytes) -> bytes:
    """The bytes a signature covers: `purpose | scope | payload`."""
    return f"{purpose}|{scope}|".encode() + payload


class KeyRing(Protocol):
    """What a broker needs to sign and verify; `None`/`False` where this process has no key."""

    def sign_down(self, message: bytes) -> str | None: ...
    def verify_down(self, message: bytes, signature: str) -> bool: ...
    def sign_up(self, message: bytes) -> tuple[str, str] | None: ...
    def verify_up(self, domain: str, key_id: str, message: bytes, signature: str) -> bool: ...
    async def prepare_up(self, key_ids: Iterable[str]) -> None: ...
    @property
    def scheduler_key(self) -> bytes | None: ...


def _private_key(admin_token: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = _mac(admin_token.encode(), b"hydra/ed25519/v1")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _public_bytes(private: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw: bytes = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw


def _verify_ed25519(public: bytes | None, message: bytes, signature: str) -> bool:
    if public is None or not signature:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class _CachedToken:
    domain: str
    key: bytes | None  # None: unknown or revoked
    until: float


class SchedulerKeys:
    """A scheduler's keys: the signing pair, the scheduler key, and a view of the token keys."""

    def __init__(self, admin_token: str, lookup: TokenLookup | None = None) -> None:
        self._private = _private_key(admin_token)
        self.public_key = _public_bytes(self._private)
        self._scheduler = _mac(admin_token.encode(), b"hydra/scheduler/v1")
        self._internal = _mac(admin_token.encode(), b"hydra/internal-worker/v1")
        self.lookup = lookup
        self._tokens: dict[str, _CachedToken] = {}

    @property
    def scheduler_key(self) -> bytes:
        return self._scheduler

    def sign_down(self, message: bytes) -> str:
        signature: bytes = self._private.sign(message)
        return signature.hex()

    def verify_down(self, message: bytes, signature: str) -> bool:
        return _verify_ed25519(self.public_key, message, signature)

    def sign_up(self, message: bytes) -> tuple[str, str]:
        """An embedded worker (it shares the scheduler's process and admin token)."""
        return INTERNAL_KEY_ID, _mac(self._internal, message).hex()

    def verify_up(self, domain: str, key_id: str, message: bytes, signature: str) -> bool:
        if key_id == INTERNAL_KEY_ID:
            key: bytes | None = self._internal
        else:
            cached = self._tokens.get(key_id)
            key = cached.key if cached is not None and cached.domain == domain else None
        return verify_hmac(key, message, signature)

    async def prepare_up(self, key_ids: Iterable[str]) -> None:
        """Load (or refresh, once stale) the keys of the tokens named, before verifying."""
        if self.lookup is None:
            return
        now = time.monotonic()
        if len(self._tokens) > MAX_CACHED_TOKENS:
            self._tokens = {k: v for k, v in self._tokens.items() if v.until > now}
        for key_id in set(key_ids) - {INTERNAL_KEY_ID}:
            if not is_id(key_id):
                continue  # not a token id: verify_up refuses it, with no lookup and no entry
            cached = self._tokens.get(key_id)
            if cached is not None and cached.until > now:
                continue
            record = await self.lookup(key_id)
            if record is None or not record.can_work:  # revoked, or a viewer's
                self._tokens[key_id] = _CachedToken("", None, now + TOKEN_CACHE_SECONDS)
            else:
                key = bytes.fromhex(record.worker_key)
                self._tokens[key_id] = _CachedToken(record.domain, key, now + TOKEN_CACHE_SECONDS)

    def forget_token(self, key_id: str) -> None:
        self._tokens.pop(key_id, None)

    def credential(self, record: TokenRecord) -> bytes:
        """What a worker of `record` reads from Redis to learn the public key (see module doc)."""
        public = self.public_key.hex()
        mac = _mac(
            bytes.fromhex(record.worker_key), _credential_subject(record.id, record.domain, public)
        )
        return json.dumps({"domain": record.domain, "pub": public, "mac": mac.hex()}).encode()


def _credential_subject(token_id: str, domain: str, public_hex: str) -> bytes:
    return f"hydra/credential/v1|{token_id}|{domain}|{public_hex}".encode()


@dataclass(frozen=True, slots=True)
class Credential:
    domain: str
    public_key: bytes


def check_credential(token_id: str, worker_key: bytes, blob: bytes) -> Credential | None:
    """The credential published for a token, if it really was made for that token's key."""
    try:
        doc = json.loads(blob)
        domain, public_hex, mac = str(doc["domain"]), str(doc["pub"]), str(doc["mac"])
        public = bytes.fromhex(public_hex)
    except (ValueError, KeyError, TypeError):
        return None
    expected = _mac(worker_key, _credential_subject(token_id, domain, public_hex)).hex()
    if not hmac.compare_digest(expected, mac) or len(public) != 32:
        return None
    return Credential(domain=domain, public_key=public)


class WorkerKeys:
    """A worker's keys: its token's worker key, and the schedulers' public key once learned."""

    def __init__(self, domain: str, token_id: str, worker_key: bytes) -> None:
        self.domain = domain
        self.token_id = token_id
        self.worker_key = worker_key
        self.public_key: bytes | None = None

    @property
    def scheduler_key(self) -> bytes | None:
        return None

    def sign_down(self, message: bytes) -> str | None:
        return None

    def verify_down(self, message: bytes, signature: str) -> bool:
        return _verify_ed25519(self.public_key, message, signature)

    def sign_up(self, message: bytes) -> tuple[str, str]:
        return self.token_id, _mac(self.worker_key, message).hex()

    def verify_up(self, domain: str, key_id: str, message: bytes, signature: str) -> bool:
        return False

    async def prepare_up(self, key_ids: Iterable[str]) -> None:
        return None


def ticket(scheduler_key: bytes, domain: str, run_id: str) -> str:
    """Proof, minted by a scheduler, that `run_id` was handed to `domain`."""
    return _mac(scheduler_key, f"ticket|{domain}|{run_id}".encode()).hex()[:32]


def check_ticket(scheduler_key: bytes, domain: str, run_id: str, value: object) -> bool:
    return isinstance(value, str) and hmac.compare_digest(
        ticket(scheduler_key, domain, run_id), value
    )


def sign_hmac(key: bytes, message: bytes) -> str:
    """Scheduler-to-scheduler messages (fan-out, nudges)."""
    return _mac(key, message).hex()


def verify_hmac(key: bytes | None, message: bytes, signature: str) -> bool:
    if key is None or not signature:
        return False
    return hmac.compare_digest(_mac(key, message).hex(), signature)
