"""The broker fixture's pair: a scheduler's side and a worker's side of one broker.

In-process: both sides are the one `MemoryBroker` (embedded mode). Redis: two `RedisBroker`s on
a real redis-server, the scheduler's with the scheduler keys (it signs deliveries and control,
verifies events) and a worker's of domain `default` with its token's keys, as in production.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hydra_jobs.broker.base import Broker, Delivery, Subscription
from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.broker.redis.broker import RedisBroker
from tests.keys import TokenRegistry

WAIT_SECONDS = 5.0  # for what arrives over pub/sub: generous on a loaded machine


def run_dict(run_id: str, domain: str = "default", queue: str = "default") -> dict[str, Any]:
    return {"id": run_id, "domain": domain, "queue": queue, "spec": {}, "attempt": 1}


@dataclass
class BrokerPair:
    kind: str
    sched: Broker
    work: Broker
    url: str = ""
    tokens: TokenRegistry | None = None
    _opened: list[Broker] = field(default_factory=list)

    async def worker(self, domain: str) -> Broker:
        """A worker's side for another domain."""
        if self.tokens is None:
            return self.work
        broker = RedisBroker(self.url, self.tokens.worker_keys(domain))
        await broker.start()
        self._opened.append(broker)
        return broker

    async def settle(self) -> None:
        """What the Redis brokers send in the background (acks, events) has reached Redis."""
        for broker in {id(b): b for b in (self.sched, self.work, *self._opened)}.values():
            if isinstance(broker, RedisBroker):
                await broker._outbox.flush(WAIT_SECONDS)

    async def listening(self, sub: Subscription[Any]) -> None:
        """Until a subscription receives (Redis pub/sub subscribes in the background)."""
        subscribed = getattr(sub, "subscribed", None)
        if subscribed is not None:
            await asyncio.wait_for(subscribed.wait(), WAIT_SECONDS)

    async def claim_all(self, run_ids: list[str], consumer: str = "w1") -> list[Delivery]:
        """Enqueue and claim the runs on the worker's side (a Redis worker may only report on
        runs it was handed: their events carry the delivery's ticket)."""
        await self.sched.enqueue("default", "default", [run_dict(r) for r in run_ids])
        got = await self.work.claim("default", ["default"], consumer, len(run_ids), 1.0)
        assert sorted(d.run_id for d in got) == sorted(run_ids)
        return got

    async def close(self) -> None:
        for broker in reversed(self._opened):
            await broker.close()
        await self.work.close()
        if self.work is not self.sched:
            await self.sched.close()


async def open_pair(kind: str, redis_url: str | None = None) -> BrokerPair:
    if kind == "memory":
        broker = MemoryBroker()
        await broker.start()
        return BrokerPair(kind, broker, broker)
    assert redis_url is not None
    tokens = TokenRegistry()
    sched = RedisBroker(redis_url, tokens.scheduler_keys(), lease_grace_seconds=0.0)
    work = RedisBroker(redis_url, tokens.worker_keys("default"))
    await sched.start()
    await work.start()
    return BrokerPair(kind, sched, work, redis_url, tokens)
