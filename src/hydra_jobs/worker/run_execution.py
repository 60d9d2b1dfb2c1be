"""Running one delivered run on the worker: the job's git source, private directory and script
file, the supervised process, and the `finished` event that reports how it ended.

`Worker` (worker.py) claims deliveries and holds the slots; this module is what happens in a
slot, from the spec to the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra_jobs.clock import Clock
from hydra_jobs.limits import STORED
from hydra_jobs.models import JobSpec
from hydra_jobs.status import RunStatus
from hydra_jobs.worker.confine import Confiner
from hydra_jobs.worker.executors import build_command, build_env, explain_spawn_failure, script_file
from hydra_jobs.worker.git.source import GitSourceError, open_checkout, source_failure
from hydra_jobs.worker.process.spec import (
    Outcome,
    OutputSink,
    ProcessResult,
    ProcessSpec,
    StartSink,
)
from hydra_jobs.worker.process.supervise import run_process
from hydra_jobs.worker.run_space import RunSpaces
from hydra_jobs.worker.settings import WorkerConfig

OUTCOME_STATUS = {
    Outcome.TIMED_OUT: RunStatus.TIMED_OUT,
    Outcome.CANCELLED: RunStatus.CANCELLED,
    Outcome.SPAWN_FAILED: RunStatus.FAILED,
}
STOP_REASONS = {
    "fenced": "stopped by its worker, which could not renew its lease (self-fencing)",
    "shutdown": "stopped by its worker, which shut down before the run finished",
}


@dataclass
class Slot:
    run_id: str
    cancel: asyncio.Event
    task: asyncio.Task[None] | None = None
    reason: str | None = None  # why the worker stopped it itself (STOP_REASONS), if it did
    pgid: int | None = None
    source_commit: str | None = None  # the commit its git source was checked out at


async def execute(
    run: dict[str, Any],
    slot: Slot,
    on_start: StartSink,
    on_output: OutputSink,
    *,
    worker_id: str,
    config: WorkerConfig,
    spaces: RunSpaces | None,
    confiner: Confiner | None,
) -> ProcessResult:
    """Run `run` in `slot`: its git source checked out, its script file and private directory
    made, the job supervised to its end (`run_process`), all of it removed afterwards."""
    spec = JobSpec.model_validate(run["spec"], context=STORED)
    command = build_command(
        spec.executor.type.value,
        spec.executor.script,
        spec.executor.interpreter,
        shell=config.shell,
    )
    run_meta = {
        "run_id": run["id"],
        "job_id": run["job_id"],
        "job_name": run["job_name"],
        "attempt": str(run["attempt"]),
        "domain": run["domain"],
        "trigger": run["trigger"],
        "worker_id": worker_id,
        "scheduled_for": run.get("scheduled_for") or "",
    }
    async with contextlib.AsyncExitStack() as stack:
        cwd: str | None = None
        space = None  # the run's private directory: its TMPDIR and script
        if spaces is not None:
            space = await stack.enter_async_context(spaces.open(run["id"]))
        granted = [] if space is None else [space]
        if spec.source is not None:
            # Checked out before the job starts, removed once it has ended.
            try:
                checkout = await stack.enter_async_context(
                    open_checkout(spec.source, config.git, run["id"], slot.cancel)
                )
                slot.source_commit = checkout.commit
                cwd = str(checkout.workdir(spec.source.path))
            except GitSourceError as exc:
                return source_failure(exc, run["id"])
            run_meta |= {"source_commit": checkout.commit, "source_dir": str(checkout.root)}
            granted.append(checkout.root)
            if spaces is not None:  # can be a large tree: off the event loop
                await asyncio.to_thread(spaces.hand_over, checkout.root)
        argv = command.argv
        if command.script_file is not None:
            # Exec'd as a file so that its #! line applies; removed once the job has ended.
            parent = None if space is None else str(space)
            argv = [stack.enter_context(script_file(command.script_file, run["id"], parent))]
            if spaces is not None and space is not None:
                spaces.hand_over(space)
        env = build_env(job_env=spec.env, params=run.get("params") or {}, run_meta=run_meta)
        pspec = ProcessSpec(
            argv=argv,
            env=env,
            cwd=cwd,
            timeout_seconds=spec.timeout_seconds,
            kill_grace_seconds=config.kill_grace_seconds,
            output_cap_bytes=config.log_max_bytes,
            **_isolation(config, confiner, env, space, granted),
            use_cgroup=config.cgroups,
            keep_daemons=spec.keep_daemons,
        )
        result = await run_process(pspec, on_output, slot.cancel, on_start)
    if result.outcome is Outcome.SPAWN_FAILED and command.script_file is not None:
        error = explain_spawn_failure(command.script_file, result.error or "spawn failed")
        result = dataclasses.replace(result, error=error)
    return result


def _isolation(
    config: WorkerConfig,
    confiner: Confiner | None,
    env: dict[str, str],
    space: Path | None,
    granted: list[Path],
) -> Any:
    """What keeps the job from the worker's files and other runs' (issue 13): its own
    TMPDIR, its user's HOME when it runs as another user, and the ProcessSpec fields."""
    if space is not None:
        env["TMPDIR"] = str(space)  # the shared /tmp is no place to hide
    run_as = config.run_as
    if run_as is not None:
        env |= {"HOME": run_as.home, "USER": run_as.name, "LOGNAME": run_as.name}
    return {
        "sandbox": None if confiner is None else confiner.sandbox(granted),
        "run_as": None if run_as is None else (run_as.uid, run_as.gid),
    }


def failure_event(error: str, clock: Clock) -> dict[str, Any]:
    """The `finished` event of a run that failed before or around its job."""
    return {
        "type": "finished",
        "status": RunStatus.FAILED.value,
        "error": error,
        "at": clock.now().isoformat(),
    }


def finished_event(
    result: ProcessResult, slot: Slot, clock: Clock, lease_fresh: Callable[[], bool]
) -> dict[str, Any]:
    """The `finished` event of a run whose job ran: its status, exit, error and usage."""
    error = result.error
    if result.outcome is Outcome.EXITED:
        status = RunStatus.SUCCEEDED if result.exit_code == 0 else RunStatus.FAILED
        if result.exit_code == -9 and not lease_fresh():
            # SIGKILLed while our lease was stale: the guard fenced it, not the job itself.
            status, error = RunStatus.LOST, STOP_REASONS["fenced"]
    elif result.outcome is Outcome.CANCELLED and slot.reason in STOP_REASONS:
        status, error = RunStatus.LOST, STOP_REASONS[slot.reason]
    else:
        status = OUTCOME_STATUS[result.outcome]
    if status is RunStatus.FAILED and error is None:
        error = f"exit code {result.exit_code}"
    return {
        "type": "finished",
        "status": status.value,
        "exit_code": result.exit_code,
        "error": error,
        "resource_usage": {
            **result.usage.as_dict(),
            "processes_killed": result.processes_killed,
        },
        "at": clock.now().isoformat(),
        "log_truncated": result.truncated,
        **({"source_commit": slot.source_commit} if slot.source_commit else {}),
    }
