"""What a supervised process is given (`ProcessSpec`) and what its run gives back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hydra_jobs.worker.confine import Sandbox


class Outcome(StrEnum):
    EXITED = "exited"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    SPAWN_FAILED = "spawn_failed"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    timeout_seconds: float | None = None
    kill_grace_seconds: float = 5.0  # TERM -> wait this long -> KILL
    output_cap_bytes: int = 10 * 1024 * 1024
    flush_interval_seconds: float = 0.1  # ship buffered output at least this often
    flush_bytes: int = 64 * 1024  # ... or when this much is buffered
    stdin_data: bytes | None = None  # None -> /dev/null
    sandbox: Sandbox | None = None  # confinement of the job (confine.py); None: none
    run_as: tuple[int, int] | None = None  # (uid, gid) the job runs as (run_as.py); None: ours
    use_cgroup: bool = True  # a cgroup v2 per run where the worker can create one (Linux)
    keep_daemons: bool = False  # the job's opt-out: what left its session outlives the run


@dataclass(frozen=True, slots=True)
class ResourceUsage:
    """What the job consumed, from the kernel when it was reaped (psutil samples where not).

    CPU covers the main process and the descendants it waited for, or with a run cgroup every
    process of the run (whose memory.peak, where measured, is `peak_memory_bytes`). Peak RSS is
    the largest single process; on Linux a spawned child inherits the worker's RSS high-water
    mark until it execs, so values at or below the worker's own footprint are an upper bound.
    """

    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_bytes: int
    wall_seconds: float
    peak_memory_bytes: int | None = None  # the run cgroup's memory.peak, where it is measured

    def as_dict(self) -> dict[str, float | int]:
        usage: dict[str, float | int] = {
            "cpu_user_seconds": self.cpu_user_seconds,
            "cpu_system_seconds": self.cpu_system_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "wall_seconds": self.wall_seconds,
        }
        if self.peak_memory_bytes is not None:
            usage["peak_memory_bytes"] = self.peak_memory_bytes
        return usage


@dataclass(frozen=True, slots=True)
class ProcessResult:
    outcome: Outcome
    exit_code: int | None  # negative signal number if killed by a signal
    error: str | None  # why the run did not end in a clean exit; None if it did
    usage: ResourceUsage
    output_bytes: int  # everything the job wrote, including what the cap dropped
    truncated: bool
    pid: int | None
    processes_killed: int = 0  # the run's processes still alive at its end, killed by us


OutputSink = Callable[[str], Awaitable[None]]
StartSink = Callable[[int, float], Awaitable[None]]  # (pid, seconds since its exec)
