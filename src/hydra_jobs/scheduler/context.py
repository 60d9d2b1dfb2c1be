"""What every scheduler component shares: store, broker, clock, settings and wake-up signals.

Wake-ups raised here are relayed to the other scheduler replicas (through the broker, see
`Engine`): a job saved or a run triggered on any replica wakes the leader's ticker or dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hydra_jobs.broker.base import Broker
from hydra_jobs.broker.signing import SchedulerKeys
from hydra_jobs.clock import Clock
from hydra_jobs.config import Settings
from hydra_jobs.errors import InvalidInput, TooManyRuns
from hydra_jobs.events import JobEvent, LiveEvent, RunEvent
from hydra_jobs.models import Job, Run, RunSummary
from hydra_jobs.notify.emit import Emitter
from hydra_jobs.run_budget import RunBudget
from hydra_jobs.scheduler.audit_log import AuditLog
from hydra_jobs.store.base import Store

log = logging.getLogger(__name__)


class Signal:
    """A level-triggered wake-up: `set` any number of times, the waiter wakes once.

    `relay`, when installed, is told about every `set` (not `set_local`), to wake other replicas.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.relay: Callable[[], None] | None = None

    def set(self) -> None:
        self._event.set()
        if self.relay is not None:
            self.relay()

    def set_local(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None) -> bool:
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
            # that arrives as the event is set, and a cancelled loop would then run on.
            async with asyncio.timeout(timeout):
                await self._event.wait()
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
    # Monotonic time until which this replica may act as leader. The engine keeps it in step with
    # the leader lease; components used on their own (tests) are always allowed to act.
    leader_until: float = math.inf
    relay_job: Callable[[str], None] | None = None
    keys: SchedulerKeys | None = None  # signing keys of a Redis deployment
    # (home domain, id) of `up`'s embedded worker: it serves every domain (`services.py`).
    shared_worker: tuple[str, str] | None = None
    audit: AuditLog = field(init=False)
    # Alerts owed by facts go to the store's outbox here; the leader's deliverer is woken.
    emitter: Emitter = field(init=False)
    notify_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    budget: RunBudget = field(init=False)  # runs each domain may still create, on this replica
    refused_runs: int = 0  # runs asked for by API calls refused over their domain's cap

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.store, self.clock)
        self.budget = RunBudget(self.settings.max_runs_per_minute)
        self.emitter = Emitter(self.store, self.clock, self.settings, self.notify_wanted.set)

    def admit(self, domain: str, count: int) -> None:
        """Spend `count` of the domain's runs (HYDRA_MAX_RUNS_PER_MINUTE), or refuse them all:
        429 with when there will be room, or 422 for more than a minute's worth at once."""
        wait = self.budget.take(domain, count, self.clock.monotonic())
        if wait == 0:
            return
        self.refused_runs += count
        cap = self.budget.per_minute
        if math.isinf(wait):
            raise InvalidInput(
                f"{count} runs at once is more than domain '{domain}' may create in a minute "
                f"({cap}, HYDRA_MAX_RUNS_PER_MINUTE): send them in smaller batches",
                loc=("body", "runs"),
            )
        raise TooManyRuns(
            f"domain '{domain}' has created the {cap} runs it may per minute "
            f"(HYDRA_MAX_RUNS_PER_MINUTE); room for {count} more in {math.ceil(wait)} s",
            retry_after=wait,
        )

    def leading(self) -> bool:
        """Checked right before a leader-only action: a leader whose lease may have lapsed (it was
        frozen, or Redis is unreachable) stops at once, not at its next renewal attempt."""
        return time.monotonic() < self.leader_until

    def job_changed(self, job_id: str) -> None:
        self.job_changed_local(job_id)
        if self.relay_job is not None:
            self.relay_job(job_id)

    def job_changed_local(self, job_id: str) -> None:
        self.changed_job_ids.add(job_id)
        self.jobs_changed.set_local()

    async def enqueue(self, runs: list[Run]) -> None:
        """Hand queued runs to the broker, one call per (domain, queue).

        A broker failure is logged, not raised: the runs are `queued` in the store, and the
        leader's periodic requeue hands them over once the broker is back.
        """
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for run in runs:
            groups[(run.domain, run.queue)].append(run.model_dump(mode="json"))
        for (domain, queue), items in groups.items():
            try:
                await self.broker.enqueue(domain, queue, items)
            except Exception as exc:
                log.warning(
                    "could not enqueue %d run(s) on %s/%s (%s); the leader will requeue them",
                    len(items),
                    domain,
                    queue,
                    exc,
                    extra={"action": "enqueue_failed"},
                )

    async def publish_runs(self, runs: list[Run] | list[RunSummary]) -> None:
        by_domain: dict[str, list[LiveEvent]] = {}
        for run in runs:
            by_domain.setdefault(run.domain, []).append(RunEvent.of(run))
        for domain, events in by_domain.items():
            await self.broker.publish(domain, events)

    async def publish_job(self, job: Job | None, *, domain: str, job_id: str) -> None:
        if job is None:
            event = JobEvent(job_id=job_id, deleted=True)
        else:
            event = JobEvent(job_id=job_id, deleted=False, job=job)
        await self.broker.publish(domain, [event])
