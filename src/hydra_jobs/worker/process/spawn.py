"""Starting a job: its own session, stdin from a file, in its run's cgroup at once, off the loop.

The spawn runs in a small thread pool (`SPAWNERS`): `Popen` blocks its thread until the child has
exec'd (vfork), from ~0.3 ms on an idle machine to well over 1 ms when the cores are busy and the
child waits for one; on the event loop that wait would stall every other run and request.
"""

from __future__ import annotations

import errno
import functools
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from hydra_jobs.worker import containment
from hydra_jobs.worker.cgroups import RunCgroup
from hydra_jobs.worker.process.spec import ProcessSpec
from hydra_jobs.worker.process.support import LINUX

SPAWN_THREADS = 4  # spawns in flight at once; each takes a thread for well under a millisecond
# A fork elsewhere holds a just-written script open until it execs: well under a millisecond,
# more when the cores are busy. Retries back off from the first delay, within the budget.
TEXT_BUSY_RETRY_SECONDS = 1.0
TEXT_BUSY_FIRST_DELAY_SECONDS = 0.001

SPAWNERS = ThreadPoolExecutor(SPAWN_THREADS, thread_name_prefix="hydra-spawn")

# The job, its cgroup, and when (time.monotonic()) its exec was done.
Spawned = tuple[subprocess.Popen[bytes], RunCgroup | None, float]


def spawn_contained(spec: ProcessSpec) -> Spawned:
    """Spawn the job and move it into its run's cgroup at once (containment.py)."""
    contain = LINUX and not spec.keep_daemons
    if contain:
        containment.ensure_subreaper()
    cgroup = RunCgroup.create() if contain and spec.use_cgroup else None
    try:
        popen = spawn_job(spec)
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        raise
    spawned = time.monotonic()  # Popen returns once the exec is done
    if cgroup is not None and not cgroup.adopt(popen.pid):
        cgroup.remove()
        cgroup = None
    return popen, cgroup, spawned


def spawn_job(spec: ProcessSpec) -> subprocess.Popen[bytes]:
    if not spec.argv:
        raise ValueError("empty argv")
    stdin: int | IO[bytes] = subprocess.DEVNULL
    feed: IO[bytes] | None = None
    if spec.stdin_data is not None:
        # A file, not a pipe: the job reads at its own pace and we have no writer to babysit.
        feed = tempfile.TemporaryFile()
        feed.write(spec.stdin_data)
        feed.seek(0)
        stdin = feed
    common: dict[str, Any] = {
        "stdin": stdin,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "cwd": spec.cwd,
        "env": spec.env,
        "close_fds": True,
    }
    if spec.run_as is not None:
        # setgroups([]), setgid, setuid in the child, before exec. CPython then forks instead of
        # vfork (~1.5-2 ms more of the worker's CPU per run at 150 MiB). Not instead: making the
        # spawning thread the job's user with the raw system calls (they change one thread) and
        # vforking from it. A thread with the job's uid can be signalled by that user, and one
        # SIGKILL or SIGSTOP to any thread acts on the whole worker; prlimit() on it sets the
        # worker's limits. A review showed a confined job killing its worker that way.
        common.update(user=spec.run_as[0], group=spec.run_as[1], extra_groups=[])
    try:
        if sys.platform == "win32":
            flags = subprocess.CREATE_NEW_PROCESS_GROUP
            return subprocess.Popen(spec.argv, creationflags=flags, **common)
        start = functools.partial(_popen_owned, spec.argv, start_new_session=True, **common)
        if spec.sandbox is not None:
            return spec.sandbox.spawn(start)
        return start()
    finally:
        if feed is not None:
            feed.close()


def _popen_owned(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start the job and mark it as ours in the forking thread (containment.spawned)."""
    popen = _popen_retrying_busy(argv, **kwargs)
    if LINUX:
        containment.spawned(popen.pid)
    return popen


def _popen_retrying_busy(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen, retried while exec fails with ETXTBSY ("Text file busy").

    A script file the worker has just written is briefly open for writing in any child that
    another thread forked meanwhile, until that child execs; exec of the file fails until then.
    """
    deadline = time.monotonic() + TEXT_BUSY_RETRY_SECONDS
    delay = TEXT_BUSY_FIRST_DELAY_SECONDS
    while True:
        try:
            return subprocess.Popen(argv, **kwargs)
        except OSError as exc:
            if exc.errno != errno.ETXTBSY or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)  # a spawner thread, never the event loop
        delay *= 2
