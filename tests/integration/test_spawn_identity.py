"""A root worker's job runs as its user, and no thread of the worker ever does (issue 13, P5).

The job gets exactly that user, its group, no other group and no capability. The thread that
forks it stays root and out of the job user's reach the whole time: a thread with the job's uid
could be sent SIGKILL or SIGSTOP by that user, which acts on the whole worker, or have the
worker's limits lowered with prlimit() (a review showed a confined job killing its worker when
the spawning thread took on the job's user). Real spawns, as root.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.worker import landlock
from hydra_jobs.worker.confine import Confiner
from hydra_jobs.worker.process import spawn
from hydra_jobs.worker.process.spec import Outcome, ProcessSpec
from hydra_jobs.worker.process.supervise import run_process

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root"),
]
NOBODY = pwd.getpwnam("nobody")
USER = (NOBODY.pw_uid, NOBODY.pw_gid)
PROBE = "id -u; id -g; id -G; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status"


def run(spec: ProcessSpec) -> str:
    popen = spawn.SPAWNERS.submit(spawn.spawn_job, spec).result(timeout=20)
    out, _ = popen.communicate(timeout=30)
    assert popen.returncode == 0, out
    return out.decode()


def spec_as_user(argv: list[str], **fields: Any) -> ProcessSpec:
    return ProcessSpec(argv=argv, env={"PATH": os.environ["PATH"]}, run_as=USER, **fields)


async def discard(_text: str) -> None:
    return None


def as_job_user(script: str) -> subprocess.CompletedProcess[str]:
    drop = ["setpriv", f"--reuid={USER[0]}", f"--regid={USER[1]}", "--clear-groups", "--"]
    return subprocess.run([*drop, "sh", "-c", script], capture_output=True, text=True, timeout=10)


def thread_states() -> dict[int, tuple[str, ...]]:
    """Each thread's users, groups and no_new_privs (set with a Landlock domain)."""
    states = {}
    for status in Path("/proc/self/task").glob("*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except FileNotFoundError:  # a thread that just ended
            continue
        keys = ("Uid", "Gid", "Groups", "NoNewPrivs")
        states[int(status.parent.name)] = tuple(fields[k].strip() for k in keys)
    return states


def test_the_job_is_its_user_with_no_other_group_and_no_capability() -> None:
    lines = run(spec_as_user(["sh", "-c", PROBE])).splitlines()
    assert lines[:3] == [str(NOBODY.pw_uid), str(NOBODY.pw_gid), str(NOBODY.pw_gid)]
    caps = dict(line.split(":\t") for line in lines[3:7])
    assert set(caps.values()) == {"0000000000000000"}, caps


@pytest.mark.parametrize("confined", [False, True])
def test_no_thread_keeps_the_jobs_user_or_its_sandbox(confined: bool, tmp_path: Path) -> None:
    before = thread_states()[os.getpid()]
    sandbox = None
    if confined:
        if landlock.abi_version() == 0:
            pytest.skip("needs Landlock")
        hidden = tmp_path / "hidden"
        hidden.mkdir()
        sandbox = Confiner(landlock.abi_version(), [hidden], hidden / "runs").sandbox([])
    for _ in range(2 * spawn.SPAWN_THREADS):  # through every spawner thread
        run(spec_as_user(["true"], sandbox=sandbox))
    assert set(thread_states().values()) == {before}


def test_the_spawning_thread_is_out_of_reach_of_the_job_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = subprocess.Popen
    at_popen = threading.Event()
    probed = threading.Event()
    tids: list[int] = []

    def pausing(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        tids.append(threading.get_native_id())  # the thread that forks the job
        at_popen.set()
        assert probed.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", pausing)
    future = spawn.SPAWNERS.submit(spawn.spawn_job, spec_as_user(["true"]))
    try:
        assert at_popen.wait(20)
        monkeypatch.setattr(subprocess, "Popen", real)  # the probe's own spawn, from this thread
        tid = tids[0]
        probe = as_job_user(
            f"kill -0 {tid} && echo signal; prlimit --pid {tid} --core=0:0 && echo prlimit; true"
        )
    finally:
        probed.set()
        future.result(timeout=20).communicate(timeout=20)
    assert probe.stdout.split() == [], probe  # a job could SIGKILL the worker, or cap its limits


async def test_no_thread_for_a_confined_spawn_fails_the_run_to_spawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of threads ("can't start new thread"): the run ends SPAWN_FAILED, saying why."""
    if landlock.abi_version() == 0:
        pytest.skip("needs Landlock")

    real_start = threading.Thread.start

    def no_thread(thread: threading.Thread) -> None:  # for the confined spawn only
        if thread.name == "hydra-confined-spawn":
            raise RuntimeError("can't start new thread")
        real_start(thread)

    hidden = tmp_path / "hidden"
    hidden.mkdir()
    sandbox = Confiner(landlock.abi_version(), [hidden], hidden / "runs").sandbox([])
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    result = await run_process(spec_as_user(["true"], sandbox=sandbox), discard, asyncio.Event())
    assert result.outcome is Outcome.SPAWN_FAILED
    assert result.error is not None and "no thread to spawn the job from" in result.error
