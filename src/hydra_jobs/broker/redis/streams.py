"""What every part of the Redis broker shares: its client, keys, scripts and consumer groups.

`RedisBroker` (`broker.py`) is composed of mixins over this base: the queues (`queues.py`), the
worker event stream (`worker_events.py`), leases and the boot id (`leases.py`), and the signed
messages outside the queues (`control.py`). They read the attributes declared here, which
`RedisBroker.__init__` sets.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from hydra_jobs.broker.redis.scripts import Keys
from hydra_jobs.broker.signing import KeyRing


class StreamBase:
    """The state and stream helpers shared by the broker's mixins."""

    client: Redis
    ring: KeyRing
    keys: Keys
    forged: int
    _scripts: dict[str, AsyncScript]
    _grouped: set[str]

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self._scripts[name](keys=keys, args=args)

    async def _ensure_group(self, stream: str, group: str) -> None:
        if stream in self._grouped:
            return
        try:
            # From 0: entries added before the group existed (a rebuild right after a Redis
            # restart) must still be read.
            await self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._grouped.add(stream)

    async def _readgroup(
        self, group: str, consumer: str, streams: list[str], count: int, timeout: float
    ) -> list[Any]:
        for stream in streams:
            await self._ensure_group(stream, group)
        block = int(timeout * 1000) if timeout > 0 else None
        try:
            resp = await self.client.xreadgroup(
                group, consumer, dict.fromkeys(streams, ">"), count=count, block=block
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._grouped.difference_update(streams)  # Redis lost them: recreate on next call
            return []
        return list(resp or [])
