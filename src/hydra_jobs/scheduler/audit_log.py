"""The audit log's writer: records of this replica's mutating API calls, stored in small batches.

A record waits up to `FLUSH_DELAY_SECONDS` to share one insert with others, so a burst of triggers
costs one write, not one transaction per call; readers of the log flush first, so they see their
own calls. Who records what is decided at the HTTP edge (`scheduler/api/audit_middleware.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hydra_jobs.clock import Clock
from hydra_jobs.ids import new_id
from hydra_jobs.store.base import AuditRecord, Store

log = logging.getLogger(__name__)

FLUSH_DELAY_SECONDS = 0.05  # how long a record may wait to share a write with others
WRITE_ATTEMPTS = 3


class AuditLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._pending: list[AuditRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def record(
        self,
        *,
        domain: str,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | None,
        details: dict[str, Any],
    ) -> None:
        self._pending.append(
            AuditRecord(
                id=new_id(),
                domain=domain,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                at=self.clock.now(),
                details=details,
            )
        )
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_soon(), name="audit-flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write what is pending (readers call it first, so they see their own calls)."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    await self.store.add_audits(batch)
                    return
                except Exception as exc:
                    if attempt == WRITE_ATTEMPTS:
                        log.error(
                            "could not store %d audit record(s): %s: %s",
                            len(batch),
                            type(exc).__name__,
                            exc,
                            extra={"action": "audit_lost"},
                        )
                        return
                    await asyncio.sleep(0.2 * attempt)

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                self._task.cancel()
                await self._task
        await self.flush()
