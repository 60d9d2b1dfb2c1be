"""Signing keys for broker-level tests: a domain token as the scheduler would store it."""

from __future__ import annotations

from hydra_jobs.broker.signing import SchedulerKeys, WorkerKeys
from hydra_jobs.clock import utcnow
from hydra_jobs.tokens import TokenRecord, mint
from tests.conftest import ADMIN


class TokenRegistry:
    """Tokens a test minted, looked up like the store would (`SchedulerKeys.lookup`)."""

    def __init__(self) -> None:
        self.records: dict[str, TokenRecord] = {}

    async def lookup(self, token_id: str) -> TokenRecord | None:
        return self.records.get(token_id)

    def scheduler_keys(self, admin: str = ADMIN) -> SchedulerKeys:
        return SchedulerKeys(admin, self.lookup)

    def worker_keys(self, domain: str = "default", admin: str = ADMIN) -> WorkerKeys:
        """A new token of `domain` and its worker's keys, public key already learned."""
        minted = mint()
        self.records[minted.token_id] = TokenRecord(
            id=minted.token_id,
            domain=domain,
            name=f"test-{domain}",
            secret_hash=minted.secret_hash,
            worker_key=minted.worker_key.hex(),
            created_at=utcnow(),
            created_by="admin",
        )
        keys = WorkerKeys(domain, minted.token_id, minted.worker_key)
        keys.public_key = SchedulerKeys(admin).public_key
        return keys
