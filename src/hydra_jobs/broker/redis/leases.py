"""The Redis broker's leases, leader election and boot id (St1).

Leases are keys with a TTL; the leader lease is SET NX PX renewed by compare-and-renew (Lua). A
boot id key tells a new or returning leader that Redis lost its data; the leader then rebuilds the
queues from the store, and the reaper waits one lease period before trusting the (empty) lease
view. Mixed into `RedisBroker`.
"""

from __future__ import annotations

import logging
import secrets
import time

from hydra_jobs.broker.redis.buffered_io import cancel_safe
from hydra_jobs.broker.redis.control import text
from hydra_jobs.broker.redis.streams import StreamBase
from hydra_jobs.errors import BackendUnavailable

log = logging.getLogger(__name__)


class Leases(StreamBase):
    """Worker leases, the leader lease and the boot id that tells a rebuild is wanted."""

    lease_grace_seconds: float
    _boot_id: str | None
    _boot_changed_at: float | None
    _rebuild_wanted: bool

    async def renew_worker_lease(self, worker_id: str, ttl: float) -> None:
        await self._script(
            "RENEW_LEASE",
            [self.keys.lease(worker_id), self.keys.workers],
            [int(ttl * 1000), worker_id],
        )

    async def drop_worker_lease(self, worker_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.lease(worker_id))
        pipe.srem(self.keys.workers, worker_id)
        await cancel_safe(pipe.execute())

    async def live_workers(self) -> set[str]:
        result = await self._script(
            "LIVE_WORKERS",
            [self.keys.workers, self.keys.boot],
            [self.keys.lease_prefix, secrets.token_hex(8)],
        )
        self._observe_boot(text(result[0]), bool(int(result[1])))
        if self._boot_changed_at is not None:
            warm = time.monotonic() - self._boot_changed_at
            if warm < self.lease_grace_seconds:
                raise BackendUnavailable(
                    f"Redis restarted {warm:.1f}s ago; worker leases are being re-established"
                )
        return {text(w) for w in result[2:]}

    async def try_lead(self, holder: str, ttl: float) -> bool:
        return bool(await self._script("TRY_LEAD", [self.keys.leader], [holder, int(ttl * 1000)]))

    async def resign(self, holder: str) -> None:
        await self._script("RESIGN", [self.keys.leader], [holder])

    async def check_boot(self) -> bool:
        result = await self._script("BOOT", [self.keys.boot], [secrets.token_hex(8)])
        self._observe_boot(text(result[0]), bool(int(result[1])))
        wanted, self._rebuild_wanted = self._rebuild_wanted, False
        return wanted

    def _observe_boot(self, boot: str, created: bool) -> None:
        if boot == self._boot_id:
            return
        first = self._boot_id is None
        self._boot_id = boot
        if created and first:
            # The usual first start (a new install); also Redis restarted empty before we came.
            log.info(
                "Redis holds no Hydra Jobs data yet (boot id %s): queues are filled from the store",
                boot,
                extra={"action": "broker_boot"},
            )
        elif not first:
            log.warning(
                "Redis lost its data while we ran (boot id %s); rebuilding from the store",
                boot,
                extra={"action": "broker_boot"},
            )
        if created or not first:
            self._boot_changed_at = time.monotonic()
            self._rebuild_wanted = True
