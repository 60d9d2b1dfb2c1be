"""The engine of one scheduler process: ingest everywhere; ticker, dispatcher, reaper on the leader.

Leadership is a lease in the broker. A replica that cannot renew it stops its leader loops at once;
slot idempotency in the store is the last line of defence if two ever overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from hydra_jobs.scheduler.dispatcher import Dispatcher
from hydra_jobs.scheduler.hub import EventHub
from hydra_jobs.scheduler.ingest import Ingest
from hydra_jobs.scheduler.reaper import Reaper
from hydra_jobs.scheduler.runtime import Runtime
from hydra_jobs.scheduler.ticker import Ticker

log = logging.getLogger(__name__)

LEADER_LEASE_SECONDS = 10.0
LEADER_RENEW_SECONDS = 3.0
RESTART_DELAY_SECONDS = 1.0


class Engine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.holder = f"scheduler-{secrets.token_hex(6)}"
        self.hub = EventHub(rt.broker)
        self.ingest = Ingest(rt)
        self.dispatcher = Dispatcher(rt)
        self.ticker = Ticker(rt)
        self.reaper = Reaper(rt)
        self.is_leader = False
        self._tasks: list[asyncio.Task[None]] = []
        self._leader_tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.hub.start()
        self._tasks = [
            self._spawn(self.ingest.run_forever, "ingest"),
            self._spawn(self._leadership, "leadership"),
        ]

    async def stop(self) -> None:
        await self._stop_leading()
        await _cancel(self._tasks)
        await self.ingest.flush()
        await self.hub.stop()
        with contextlib.suppress(Exception):
            await self.rt.broker.resign(self.holder)

    @staticmethod
    def _spawn(loop: Callable[[], Awaitable[None]], name: str) -> asyncio.Task[None]:
        return asyncio.create_task(_supervise(loop, name), name=name)

    async def _leadership(self) -> None:
        while True:
            try:
                leading = await self.rt.broker.try_lead(self.holder, LEADER_LEASE_SECONDS)
            except Exception:
                log.warning("leader lease check failed", extra={"action": "leader"})
                leading = False
            if leading and not self.is_leader:
                self._start_leading()
            elif not leading and self.is_leader:
                await self._stop_leading(lost=True)
            await asyncio.sleep(LEADER_RENEW_SECONDS)

    def _start_leading(self) -> None:
        log.info("became leader", extra={"action": "leader_start", "holder": self.holder})
        self.is_leader = True
        self._leader_tasks = [
            self._spawn(self.dispatcher.run_forever, "dispatcher"),
            self._spawn(self.ticker.run_forever, "ticker"),
            self._spawn(self.reaper.run_forever, "reaper"),
        ]

    async def _stop_leading(self, *, lost: bool = False) -> None:
        if self.is_leader and lost:
            log.warning("lost the leader lease; stepping down", extra={"action": "leader_stop"})
        self.is_leader = False
        await _cancel(self._leader_tasks)
        self._leader_tasks = []


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _supervise(loop: Callable[[], Awaitable[None]], name: str) -> None:
    """Keep an engine loop alive: a crash is logged and the loop restarts after a pause."""
    while True:
        try:
            await loop()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("engine loop %s crashed; restarting", name, extra={"action": "crash"})
            await asyncio.sleep(RESTART_DELAY_SECONDS)
