"""A worker's proof that its `API_TOKEN` is a live token of its `WORKER_DOMAIN` (issue: tenancy).

The worker talks only to Redis, so it cannot ask the store. Schedulers publish a credential for
every active token (`broker/signing.py`); the worker finds the one of its token, checks that it was
made for its token's key (a forged one is refused) and for its domain, and learns the schedulers'
public key from it. At start-up a missing or wrong credential is a clear refusal; later, its
credential disappearing (while the set is known to be complete) means the token was revoked.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hydra_jobs.broker.base import Broker
from hydra_jobs.broker.signing import WorkerKeys, check_credential
from hydra_jobs.errors import ConfigError
from hydra_jobs.tokens import parse

log = logging.getLogger(__name__)

CREDENTIAL_POLL_SECONDS = 0.5  # while waiting for a scheduler to publish the credentials


def worker_keys(token: str, domain: str) -> WorkerKeys:
    """The keys of a domain token; a value that is not one is refused with what to do instead."""
    parsed = parse(token)
    if parsed is None:
        raise ConfigError(
            "API_TOKEN is not a Hydra Jobs domain token (they look like hjt_<id>_<secret>); "
            f"create one with `hydra-jobs tokens create --domain {domain} NAME`"
        )
    return WorkerKeys(domain, parsed.token_id, parsed.worker_key)


class WorkerCredentials:
    def __init__(self, broker: Broker, keys: WorkerKeys) -> None:
        self.broker = broker
        self.keys = keys

    @property
    def token_id(self) -> str:
        return self.keys.token_id

    async def establish(self, wait_seconds: float) -> None:
        """Check the token against what the schedulers published; raise `ConfigError` if wrong.

        Waits up to `wait_seconds` for the schedulers to publish the credential set (Redis just
        started, or was flushed); a complete set without this token is a refusal at once.
        """
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            blob, complete = await self.broker.read_credential(self.token_id)
            if blob is not None:
                self._accept(blob)
                return
            if complete:
                raise ConfigError(
                    "API_TOKEN is not a valid token: it is unknown or was revoked, or its role "
                    "is viewer (a worker needs operator or higher: an owner or the admin can "
                    f"change it with `hydra-jobs tokens role`) (token id {self.token_id})"
                )
            if time.monotonic() >= deadline:
                raise ConfigError(
                    "no scheduler has published worker credentials on this Redis "
                    f"within {wait_seconds:.0f}s: start `hydra-jobs scheduler` with the same "
                    "REDIS_URL (and HYDRA_REDIS_PREFIX)"
                )
            if not told:
                log.info("waiting for a scheduler to publish worker credentials")
                told = True
            await asyncio.sleep(CREDENTIAL_POLL_SECONDS)

    def _accept(self, blob: bytes) -> None:
        credential = check_credential(self.token_id, self.keys.worker_key, blob)
        if credential is None:
            raise ConfigError(
                "API_TOKEN is not valid: its secret does not match token "
                f"{self.token_id} (copy the whole token as it was shown when created)"
            )
        if credential.domain != self.keys.domain:
            raise ConfigError(
                f"API_TOKEN belongs to domain '{credential.domain}', but WORKER_DOMAIN is "
                f"'{self.keys.domain}': use a token of '{self.keys.domain}' or set "
                f"WORKER_DOMAIN={credential.domain}"
            )
        self.keys.public_key = credential.public_key

    async def still_valid(self) -> bool:
        """False once the token is revoked; a credential set being rebuilt counts as valid."""
        blob, complete = await self.broker.read_credential(self.token_id)
        if blob is None:
            return not complete
        credential = check_credential(self.token_id, self.keys.worker_key, blob)
        if credential is None or credential.domain != self.keys.domain:
            return True  # not ours to trust: a forged entry must not stop a worker either
        self.keys.public_key = credential.public_key  # follows an ADMIN_TOKEN rotation
        return True
