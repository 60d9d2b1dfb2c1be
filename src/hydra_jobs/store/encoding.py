"""What every store implements the same way: status sets as stored, and how a log is read back.

Pure (no I/O), so the SQL and MongoDB stores cannot drift apart on the rules.
"""

from __future__ import annotations

from typing import Any

from hydra_jobs.models import Job, LogPage
from hydra_jobs.status import ACTIVE, FAILURE, NOT_ENDED, TERMINAL, RunStatus, values

# The status sets of `status.py` as stored.
TERMINAL_VALUES = values(TERMINAL)
NOT_ENDED_VALUES = values(NOT_ENDED)  # never deleted
ACTIVE_VALUES = values(ACTIVE)
FAILED_VALUES = values(FAILURE)
STATS_MAX_ROWS = 500_000  # runs read for one dashboard window
RECENT_FAILURES = 10


class LogAssembler:
    """Joins log chunks, in offset order, from `offset` into one page of contiguous output.

    Chunks are keyed by their offset in characters. Reading stops at a gap (a chunk not stored
    yet: the next read resumes there), and before a chunk that would pass `max_chars` (but a page
    always holds at least one chunk, so a reader never stalls on a big one).
    """

    def __init__(self, offset: int, max_chars: int) -> None:
        self.position = offset
        self.max_chars = max_chars
        self._parts: list[str] = []
        self._size = 0

    def add(self, chunk_offset: int, data: str) -> bool:
        """Take the next chunk; False when reading must stop (the chunk was not taken)."""
        if chunk_offset > self.position:
            return False
        piece = data[self.position - chunk_offset :]
        if self._size + len(piece) > self.max_chars and self._parts:
            return False
        self._parts.append(piece)
        self._size += len(piece)
        self.position += len(piece)
        return True

    def page(self, *, status: RunStatus, log_size: int, truncated: bool) -> LogPage:
        return LogPage(
            data="".join(self._parts),
            next_offset=self.position,
            complete=status in TERMINAL and self.position >= log_size,
            truncated=truncated,
        )


def job_record(job: Job) -> dict[str, Any]:
    """The stored fields of a job, shared by the SQL row and the MongoDB document."""
    return {
        "id": job.id,
        "domain": job.domain,
        "name": job.name,
        "spec": job.spec().model_dump(mode="json"),
        "paused": job.paused,
        "has_schedule": job.schedule is not None,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "next_fire_at": job.next_fire_at,
        "retention_days": job.retention_days,
    }
