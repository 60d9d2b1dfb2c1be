"""A root worker's job takes on its user in a thread of its own (worker/identity.py).

The thread that forks the job becomes the job's user through the raw system calls, so CPython
can vfork; the job must get exactly that user, its group and no other groups or capabilities,
and no other thread of the worker may lose root. Real spawns, as root.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.worker import identity
from hydra_jobs.worker.process import spawn
from hydra_jobs.worker.process.spec import ProcessSpec

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        not identity.THREAD_CREDENTIALS or os.geteuid() != 0,
        reason="needs root on Linux x86_64/aarch64",
    ),
]
NOBODY = pwd.getpwnam("nobody")
USER = (NOBODY.pw_uid, NOBODY.pw_gid)
PROBE = "id -u; id -g; id -G; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status; pwd"


def run(spec: ProcessSpec) -> str:
    popen = spawn.spawn_job(spec)
    out, _ = popen.communicate(timeout=30)
    assert popen.returncode == 0, out
    return out.decode()


def probe(**fields: Any) -> ProcessSpec:
    env = {"PATH": os.environ["PATH"]}
    return ProcessSpec(argv=["sh", "-c", PROBE], env=env, run_as=USER, **fields)


def test_the_job_is_its_user_with_no_other_group_and_no_capability() -> None:
    lines = run(probe()).splitlines()
    assert lines[:3] == [str(NOBODY.pw_uid), str(NOBODY.pw_gid), str(NOBODY.pw_gid)]
    caps = dict(line.split(":\t") for line in lines[3:7])
    assert set(caps.values()) == {"0000000000000000"}, caps


def test_no_thread_of_the_worker_loses_root() -> None:
    before = (os.getresuid(), os.getresgid(), os.getgroups())
    for _ in range(3):
        run(probe())
    assert (os.getresuid(), os.getresgid(), os.getgroups()) == before
    seen: list[tuple[int, int, int]] = []
    pool = spawn.SPAWNERS.submit(os.getresuid)  # the spawner threads too
    seen.append(pool.result(timeout=10))
    other = threading.Thread(target=lambda: seen.append(os.getresuid()))
    other.start()
    other.join()
    assert seen == [(0, 0, 0), (0, 0, 0)]


def test_the_user_is_not_handed_to_popen_which_would_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython forks the whole worker instead of vfork when Popen is asked to change the user."""
    seen: list[dict[str, Any]] = []
    real = subprocess.Popen

    def recording(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording)
    assert run(probe()).splitlines()[0] == str(NOBODY.pw_uid)
    assert [{"user", "group", "extra_groups"} & kwargs.keys() for kwargs in seen] == [set()]


def test_the_working_directory_is_entered_as_the_job_user() -> None:
    with tempfile.TemporaryDirectory() as top:
        Path(top).chmod(0o711)
        shut = Path(top) / "shut"
        shut.mkdir(mode=0o700)  # root's only
        with pytest.raises(PermissionError):
            spawn.spawn_job(probe(cwd=str(shut)))
        shut.chmod(0o755)
        assert run(probe(cwd=str(shut))).splitlines()[-1] == str(shut)
    assert os.getresuid() == (0, 0, 0)


def test_a_user_the_thread_cannot_become_fails_the_spawn_alone() -> None:
    """A thread that is not root cannot switch user: the spawn fails with why, nothing starts."""

    def not_root() -> None:
        identity.become_user(*USER)  # this disposable thread is now nobody
        identity.become_user(0, 0)

    with pytest.raises(PermissionError, match="setgroups for the job's user"):
        identity.in_fresh_thread(not_root)
    assert os.getresuid() == (0, 0, 0)
