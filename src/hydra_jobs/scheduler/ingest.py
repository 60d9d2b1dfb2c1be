"""Ingest: turns worker events into store writes, in batches, then fans the changes out live.

Every replica runs it. A batch is whatever is waiting (up to `INGEST_BATCH` events) applied in one
transaction, so a burst of short runs costs a few transactions, not one per event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from hydra_jobs.models import TERMINAL, Run, RunStatus, Worker
from hydra_jobs.scheduler.followup import after_terminal
from hydra_jobs.scheduler.runtime import Runtime
from hydra_jobs.store.base import AppendLog, Op, SetStatus, UpsertWorker

log = logging.getLogger(__name__)

INGEST_BATCH = 1000
COALESCE_SECONDS = 0.002
READ_TIMEOUT_SECONDS = 1.0
FINISH_STATUSES = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELLED}
)


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def event_to_op(event: dict[str, Any]) -> Op | None:
    kind = event.get("type")
    if kind == "started":
        return SetStatus(
            event["run_id"],
            frozenset({RunStatus.QUEUED}),
            RunStatus.RUNNING,
            {"worker_id": event["worker_id"], "started_at": _when(event["at"])},
        )
    if kind == "output":
        return AppendLog(
            event["run_id"],
            int(event["offset"]),
            str(event["data"]),
            worker_id=event["worker_id"],
            truncated=bool(event.get("truncated")),
        )
    if kind == "finished":
        status = RunStatus(event["status"])
        if status not in FINISH_STATUSES:
            return None
        fields = {
            "finished_at": _when(event["at"]),
            "exit_code": event.get("exit_code"),
            "error": event.get("error"),
            "resource_usage": event.get("resource_usage"),
        }
        if event.get("log_truncated"):
            fields["log_truncated"] = True
        if event.get("source_commit"):
            fields["source_commit"] = event["source_commit"]
        return SetStatus(
            event["run_id"],
            frozenset({RunStatus.RUNNING}),
            status,
            fields,
            worker_id=event["worker_id"],
        )
    if kind == "worker":
        return UpsertWorker(Worker.model_validate(event["worker"]))
    return None


class Ingest:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.applied = 0
        self.dropped = 0

    async def run_forever(self) -> None:
        while True:
            events = await self.rt.broker.read_events(INGEST_BATCH, READ_TIMEOUT_SECONDS)
            if events and len(events) < INGEST_BATCH // 4:
                # A trickle: wait a moment so a burst is written in one transaction.
                await asyncio.sleep(COALESCE_SECONDS)
                events += await self.rt.broker.read_events(INGEST_BATCH - len(events), 0.0)
            if events:
                try:
                    await self.handle(events)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("ingest batch failed", extra={"action": "ingest"})

    async def flush(self) -> None:
        """Apply whatever events are already waiting (at shutdown, after the worker stopped)."""
        while events := await self.rt.broker.read_events(INGEST_BATCH, 0.0):
            await self.handle(events)

    async def handle(self, events: list[dict[str, Any]]) -> None:
        pairs = [(e, op) for e in events if (op := event_to_op(e)) is not None]
        if not pairs:
            return
        results = await self.rt.store.apply([op for _, op in pairs])
        changed: list[Run] = []
        ended: list[Run] = []
        logs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        workers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (event, op), result in zip(pairs, results, strict=True):
            if result is False:
                self.dropped += 1
                await self._refused(event, op)
                continue
            self.applied += 1
            if isinstance(result, Run):
                changed.append(result)
                if result.status in TERMINAL:
                    ended.append(result)
            elif isinstance(op, AppendLog) and op.data:
                domain = event.get("domain", "")
                logs[domain].append(
                    {"type": "log", "run_id": op.run_id, "offset": op.offset, "data": op.data}
                )
            elif isinstance(op, UpsertWorker):
                workers[op.worker.domain].append(
                    {"type": "worker", "worker": op.worker.model_dump(mode="json")}
                )
        await self._publish(changed, logs, workers)
        if ended:
            await after_terminal(self.rt, ended)

    async def _publish(
        self,
        changed: list[Run],
        logs: dict[str, list[dict[str, Any]]],
        workers: dict[str, list[dict[str, Any]]],
    ) -> None:
        for domain, items in logs.items():
            await self.rt.broker.publish(domain, items)
        await self.rt.publish_runs(changed)
        for domain, items in workers.items():
            await self.rt.broker.publish(domain, items)

    async def _refused(self, event: dict[str, Any], op: Op) -> None:
        """A stale or illegal event: never applied. A refused start means a copy must stop."""
        if event.get("type") != "started":
            return
        run = await self.rt.store.find_run(event["run_id"])
        if run is None or run.status in TERMINAL or run.worker_id != event["worker_id"]:
            await self.rt.broker.send_control(
                event.get("domain", run.domain if run else ""),
                {"type": "abort", "run_id": event["run_id"], "worker_id": event["worker_id"]},
            )
