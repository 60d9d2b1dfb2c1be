"""The spawn runs in a thread: the event loop keeps going meanwhile, and nothing leaks if the run
is cancelled while its process is being started."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time

import psutil
import pytest

from hydra_jobs.worker.process import spawn
from hydra_jobs.worker.process.spec import ProcessSpec
from hydra_jobs.worker.process.supervise import run_process

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process semantics"),
]

SLOW_SPAWN_SECONDS = 0.5


def sleeper() -> ProcessSpec:
    return ProcessSpec(argv=["sleep", "30"], env={"PATH": os.environ["PATH"]})


async def discard(_text: str) -> None:
    return None


@pytest.fixture
def slow_spawn(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`spawn_job` that holds its thread a while after starting the job; collects the pids."""
    spawned: list[int] = []
    real = spawn.spawn_job

    def slow(spec: ProcessSpec) -> subprocess.Popen[bytes]:
        popen = real(spec)
        spawned.append(popen.pid)
        time.sleep(SLOW_SPAWN_SECONDS)
        return popen

    monkeypatch.setattr(spawn, "spawn_job", slow)
    return spawned


async def test_the_event_loop_runs_while_a_process_is_spawned(slow_spawn: list[int]) -> None:
    cancel = asyncio.Event()
    task = asyncio.create_task(run_process(sleeper(), discard, cancel))
    ticks = [time.monotonic()]
    while ticks[-1] - ticks[0] < 2 * SLOW_SPAWN_SECONDS:
        await asyncio.sleep(0.01)
        ticks.append(time.monotonic())
    cancel.set()
    await task
    assert slow_spawn, "nothing was spawned"
    longest = max(b - a for a, b in itertools.pairwise(ticks))
    assert longest < SLOW_SPAWN_SECONDS / 2, "the loop was blocked while the job was spawned"


async def test_a_run_cancelled_while_spawning_leaves_no_process(slow_spawn: list[int]) -> None:
    task = asyncio.create_task(run_process(sleeper(), discard, asyncio.Event()))
    while not slow_spawn:
        await asyncio.sleep(0.005)
    job = psutil.Process(slow_spawn[0])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    deadline = time.monotonic() + SLOW_SPAWN_SECONDS + 5.0
    while job.is_running() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not job.is_running(), "the job started for a cancelled run was not killed and reaped"
