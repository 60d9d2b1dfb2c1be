"""What every scheduler component shares: store, broker, clock, settings and wake-up signals."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hydra_jobs.broker.base import Broker
from hydra_jobs.clock import Clock
from hydra_jobs.config import Settings
from hydra_jobs.models import Job, Run, RunSummary
from hydra_jobs.store.base import Store

log = logging.getLogger(__name__)


class Signal:
    """A level-triggered wake-up: `set` any number of times, the waiter wakes once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


@dataclass
class Runtime:
    store: Store
    broker: Broker
    clock: Clock
    settings: Settings
    dispatch_wanted: Signal = field(default_factory=Signal)
    jobs_changed: Signal = field(default_factory=Signal)
    changed_job_ids: set[str] = field(default_factory=set)

    def job_changed(self, job_id: str) -> None:
        self.changed_job_ids.add(job_id)
        self.jobs_changed.set()

    async def enqueue(self, runs: list[Run]) -> None:
        """Hand queued runs to the broker, one call per (domain, queue)."""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for run in runs:
            groups[(run.domain, run.queue)].append(run.model_dump(mode="json"))
        for (domain, queue), items in groups.items():
            await self.broker.enqueue(domain, queue, items)

    async def publish_runs(self, runs: list[Run] | list[RunSummary]) -> None:
        by_domain: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            by_domain.setdefault(run.domain, []).append(
                {"type": "run", "run": run.model_dump(mode="json", exclude={"spec"})}
            )
        for domain, events in by_domain.items():
            await self.broker.publish(domain, events)

    async def publish_job(self, job: Job | None, *, domain: str, job_id: str) -> None:
        payload: dict[str, Any] = {"type": "job", "job_id": job_id, "deleted": job is None}
        if job is not None:
            payload["job"] = job.model_dump(mode="json")
        await self.broker.publish(domain, [payload])
