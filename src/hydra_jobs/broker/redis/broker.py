"""The Redis broker of distributed mode (redis-py asyncio), behind the same `Broker` protocol.

`RedisBroker` holds the connection pool and the lifecycle; its channels are mixins, one module
each (the IDs name properties in docs/reliability.md):
- `queues.py`: queue streams with one consumer group; a delivery is in exactly one consumer's
  pending list until acked, and the leader takes over those of dead consumers (D1/D2).
- `worker_events.py`: worker events on one stream, read once by the scheduler replicas.
- `leases.py`: worker leases, the leader lease, the boot id that says Redis lost its data (St1).
- `control.py`: live fan-out, control and nudges over pub/sub, with marker keys for cancels,
  aborts and drains that workers poll (St2).
- `streams.py`: the state and consumer-group helpers they share.
Every message is signed (`signing.py`): a forged entry is acked, dropped and logged (A4). Every call
that fails on the connection surfaces as `redis.exceptions.RedisError`; the loops that call the
broker retry with capped, jittered backoff (St3).
"""

from __future__ import annotations

import math
import secrets
import socket
from collections import deque
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hydra_jobs.broker.base import Delivery
from hydra_jobs.broker.redis import scripts as lua
from hydra_jobs.broker.redis.buffered_io import (
    Outbox,
    PubSubFeed,
    cancel_safe,
    settle_detached,
)
from hydra_jobs.broker.redis.control import ControlPlane
from hydra_jobs.broker.redis.leases import Leases
from hydra_jobs.broker.redis.queues import QueueMixin
from hydra_jobs.broker.redis.scripts import Keys
from hydra_jobs.broker.redis.worker_events import EventStream
from hydra_jobs.broker.signing import KeyRing


class _Redis(Redis):
    """Every command through `cancel_safe` (see there): a cancelled caller stops at once."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await cancel_safe(super().execute_command(*args, **options))  # type: ignore[no-untyped-call]


MAX_CONNECTIONS = 16  # per process: bounded even when a fleet reconnects at once (St3)
POOL_WAIT_SECONDS = 10.0
SOCKET_TIMEOUT_SECONDS = 5.0  # longer than any BLOCK we issue
CONNECT_TIMEOUT_SECONDS = 2.0


class RedisBroker(QueueMixin, EventStream, Leases, ControlPlane):
    def __init__(
        self,
        url: str,
        keys: KeyRing,
        *,
        prefix: str = "hydra",
        lease_grace_seconds: float = 10.0,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.url = url
        self.ring = keys
        self.keys = Keys(prefix)
        self.lease_grace_seconds = lease_grace_seconds
        self.instance = f"{socket.gethostname()}-{secrets.token_hex(4)}"
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_keepalive=True,
            # One immediate retry replaces a pooled connection that died with a Redis restart;
            # anything longer is the calling loop's backoff, so lease timing stays predictable.
            retry=Retry(NoBackoff(), 1),
            client_name=f"hydra-{self.instance}",
        )
        self.client = _Redis(connection_pool=self._pool)
        self._outbox = Outbox(self.client)
        self._scripts = {
            name: self.client.register_script(getattr(lua, name))
            for name in (
                "ENQUEUE",
                "REDELIVER",
                "DROP",
                "PURGE",
                "RENEW_LEASE",
                "LIVE_WORKERS",
                "BOOT",
                "TRY_LEAD",
                "RESIGN",
            )
        }
        self._grouped: set[str] = set()  # streams whose consumer group we know exists
        self._known_streams: list[str] = []  # every queue stream, as last read
        self._streams_read_at = -math.inf
        self._turn = 0
        self._overflow: deque[Delivery] = deque()  # claimed beyond the free slots asked for
        self._tickets: dict[str, str] = {}  # run id -> scheduler ticket, for this worker's events
        self._feeds: set[PubSubFeed[Any]] = set()
        self._boot_id: str | None = None
        self._boot_changed_at: float | None = None
        self._rebuild_wanted = False
        self._next_reclaim = 0.0
        self.forged = 0  # messages dropped because they did not verify

    # lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing is required of Redis yet: every call connects lazily and retries."""
        self._outbox.start()

    async def close(self) -> None:
        await self._outbox.flush(5.0)
        while self._overflow:
            delivery = self._overflow.popleft()
            try:
                await self.redeliver(delivery)
            except RedisError:
                break  # the leader recovers them once this consumer's lease is gone
        for feed in list(self._feeds):
            await feed.close()
        await self._outbox.close()
        await self.client.aclose()
        await self._pool.disconnect()
        await settle_detached(2.0)

    async def ping(self) -> None:
        await self.client.ping()
