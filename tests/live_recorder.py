"""Record every run status change the schedulers publish (Redis live fan-out), from a thread.

Used to prove "one terminal state, none twice": the store keeps only the last status of a run,
the live channel shows every transition that was applied.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

from hydra_jobs.broker.redis.broker import RedisBroker
from hydra_jobs.broker.signing import SchedulerKeys
from hydra_jobs.events import RunEvent
from tests.conftest import ADMIN, TERMINAL


class LiveRecorder:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.statuses: dict[str, list[str]] = defaultdict(list)
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> LiveRecorder:
        self._thread.start()
        if not self.ready.wait(10):
            raise AssertionError("live recorder did not subscribe")
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        broker = RedisBroker(self.redis_url, SchedulerKeys(ADMIN))
        await broker.start()
        sub = broker.subscribe(None)
        await sub.subscribed.wait()
        self.ready.set()

        async def pump() -> None:
            async for event in sub:
                if isinstance(event, RunEvent):
                    history = self.statuses[event.run.id]
                    if not history or history[-1] != event.run.status.value:
                        history.append(event.run.status.value)

        task = asyncio.create_task(pump())
        await self._stop.wait()
        task.cancel()
        await sub.close()
        await broker.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def terminal_twice(self) -> dict[str, list[str]]:
        """Runs that reached two different terminal states.

        Replicas publish independently, so a run's events may arrive out of order (the hub
        drops stale ones for SSE clients; this recorder listens to Redis directly) and only
        the terminal states are compared. None may change: a poison run is `failed` in one step
        (D6 in docs/reliability.md).
        """
        bad: dict[str, list[str]] = {}
        for run_id, history in self.statuses.items():
            ends = {s for s in history if s in TERMINAL}
            if len(ends) > 1:
                bad[run_id] = list(history)
        return bad
