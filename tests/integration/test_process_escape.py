"""Processes that try to outlive their run (issue 13 §2): setsid daemons, double-fork daemons with
and without a cleared environment, and a job that keeps forking setsid children while it is being
killed. Each escape is tried with a per-run cgroup and with the subreaper fallback; afterwards no
process the run started may be alive, found through the job's own report of its pids and through
`/proc` (every process whose environment carries the run's marker).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from hydra_jobs.worker import cgroups, containment
from hydra_jobs.worker.guard import Guard
from hydra_jobs.worker.process.spec import Outcome, ProcessResult, ProcessSpec
from hydra_jobs.worker.process.supervise import run_process
from tests.cgroup_hosts import require_cgroups

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process containment"),
]

GONE_TIMEOUT_SECONDS = 5.0  # killed orphans must also be reaped, by us or by PID 1

# A daemon that leaves the job's session and closes its output: in no group, tree or pipe of ours.
SETSID_DAEMON = """
setsid sh -c 'echo "daemon=$$" >{out}; exec sleep 300' >/dev/null 2>&1 &
while [ ! -s {out} ]; do sleep 0.01; done
echo started
"""

# The classic double fork: child calls setsid, forks the daemon and exits; the daemon is orphaned.
DOUBLE_FORK = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1], "w") as fh:
            fh.write(f"daemon={os.getpid()}\\n")
        fd = os.open(os.devnull, os.O_RDWR)
        for n in (0, 1, 2):
            os.dup2(fd, n)
        env = {} if sys.argv[2] == "clear" else dict(os.environ)
        os.execve("/bin/sleep", ["sleep", "300"], env)
    os._exit(0)
os.wait()
print("started", flush=True)
"""

# Appended to DOUBLE_FORK: the job waits until its daemon has exec'd.
EXECED = """
while True:
    try:
        pid = int(open(sys.argv[1]).read().split("=")[1])
        if open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"sleep"):
            break
    except (OSError, IndexError, ValueError):
        pass
"""

# Ignores TERM and keeps starting setsid children (each with a cleared environment, so only the
# containment can find them) until it is killed.
FORKER_TEMPLATE = """
trap '' TERM
echo started
while :; do
  setsid env -i /bin/sleep {seconds} >/dev/null 2>&1 &
  sleep 0.01
done
"""


def marker_spec(argv: list[str], **kwargs: Any) -> ProcessSpec:
    env = {"PATH": os.environ["PATH"], "HYDRA_RUN_ID": uuid.uuid4().hex}
    return ProcessSpec(argv=argv, env=env, **kwargs)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def marked(run_id: str) -> list[int]:
    """Every live process whose environment carries this run's marker."""
    needle = f"\0HYDRA_RUN_ID={run_id}\0".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                if needle in b"\0" + fh.read() + b"\0" and alive(int(name)):
                    found.append(int(name))
        except OSError:
            continue
    return found


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def daemon_pid(path: str) -> int:
    wait_for(lambda: os.path.exists(path) and "\n" in open(path).read(), 5, "the daemon's pid")
    with open(path) as fh:
        return int(fh.read().split("=")[1])


@pytest.fixture(params=["cgroup", "subreaper"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "cgroup":
        require_cgroups()
    yield request.param


def contained(spec: ProcessSpec, mode: str) -> ProcessSpec:
    return ProcessSpec(**{**_fields(spec), "use_cgroup": mode == "cgroup"})


def _fields(spec: ProcessSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}


async def run(spec: ProcessSpec, cancel: asyncio.Event | None = None) -> ProcessResult:
    async def sink(_text: str) -> None:
        return None

    return await run_process(spec, sink, cancel or asyncio.Event())


def assert_nothing_left(result: ProcessResult, spec: ProcessSpec, pids: list[int]) -> None:
    assert pids, "the test collected no processes, so it proves nothing"
    assert [p for p in pids if alive(p)] == []
    assert marked(spec.env["HYDRA_RUN_ID"]) == []
    wait_for(
        lambda: not any(psutil.pid_exists(p) and not alive(p) and _ours(p) for p in pids),
        GONE_TIMEOUT_SECONDS,
        "zombies reaped",
    )


def _ours(pid: int) -> bool:
    try:
        return psutil.Process(pid).ppid() == os.getpid()
    except psutil.Error:
        return False


async def test_setsid_daemon_of_a_succeeding_job_is_killed(mode: str, tmp_path: Any) -> None:
    out = str(tmp_path / "daemon")
    spec = contained(marker_spec(["sh", "-c", SETSID_DAEMON.format(out=out)]), mode)

    result = await run(spec)

    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
    pid = daemon_pid(out)
    assert_nothing_left(result, spec, [pid])
    assert result.processes_killed >= 1


@pytest.mark.parametrize("env", ["kept", "clear"])
async def test_double_fork_daemon_is_killed(mode: str, env: str, tmp_path: Any) -> None:
    out = str(tmp_path / "daemon")
    spec = contained(marker_spec([sys.executable, "-c", DOUBLE_FORK, out, env]), mode)

    result = await run(spec)

    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
    pid = daemon_pid(out)
    assert_nothing_left(result, spec, [pid])
    assert result.processes_killed == 1


async def test_double_fork_daemon_of_a_timed_out_job_is_killed(mode: str, tmp_path: Any) -> None:
    out = str(tmp_path / "daemon")
    code = DOUBLE_FORK + "import time; time.sleep(300)\n"
    spec = contained(
        marker_spec([sys.executable, "-c", code, out, "clear"], timeout_seconds=1.0), mode
    )

    result = await run(spec)

    assert result.outcome is Outcome.TIMED_OUT
    pid = daemon_pid(out)
    assert_nothing_left(result, spec, [pid])
    assert result.processes_killed == 2  # the main process and the daemon


async def test_job_forking_setsid_children_through_the_grace_period_leaves_nothing(
    mode: str,
) -> None:
    seconds = f"300.{uuid.uuid4().int % 10**9}"  # tells its sleeps from anyone else's
    script = FORKER_TEMPLATE.format(seconds=seconds)
    spec = contained(
        marker_spec(["sh", "-c", script], timeout_seconds=0.5, kill_grace_seconds=1.0), mode
    )
    seen: set[int] = set()
    task = asyncio.create_task(run(spec))
    # Watch the run's processes (children of the forker, or adopted ones) until it has ended.
    while not task.done():
        seen.update(_sleepers(seconds))
        await asyncio.sleep(0.02)

    result = await task

    assert result.outcome is Outcome.TIMED_OUT
    assert len(seen) > 10, "the job did not fork during its grace period"
    assert _sleepers(seconds) == set()
    assert [p for p in seen if alive(p)] == []
    assert result.processes_killed >= len(seen)


def _sleepers(seconds: str) -> set[int]:
    """The forker's `sleep` children (env -i leaves no marker to find them by)."""
    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] == ["/bin/sleep", seconds] and alive(proc.pid):
            found.add(proc.pid)
    return found


async def test_runs_spawned_at_once_by_a_fresh_worker_each_get_their_own_cgroup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_cgroups()
    cgroups._close_parent()  # as when a worker starts: its parent cgroup is yet to be made
    real_create = cgroups._Parent.create

    def slow_create() -> cgroups._Parent | None:
        time.sleep(0.05)  # the spawner threads all arrive while the first one creates it
        return real_create()

    monkeypatch.setattr(cgroups._Parent, "create", slow_create)
    script = "sleep 0.2; cat /proc/self/cgroup"  # cat is forked well after the move
    outputs: list[str] = []

    async def sink(text: str) -> None:
        outputs.append(text)

    spec = marker_spec(["sh", "-c", script])
    results = await asyncio.gather(*(run_process(spec, sink, asyncio.Event()) for _ in range(8)))

    assert [r.exit_code for r in results] == [0] * 8
    lines = [line for text in outputs for line in text.splitlines() if line.startswith("0::")]
    assert len(lines) == 8 and len(set(lines)) == 8, lines
    assert all("/hydra-" in line and "/run-" in line for line in lines), lines


async def test_the_workers_guard_adopted_during_a_run_is_not_taken_for_its_daemon() -> None:
    # The guard's launcher exits at once, so this process (a subreaper) adopts the guard; it was
    # created during the run, outside any session of ours, without a marker: like a daemon.
    assert containment.ensure_subreaper()
    started = asyncio.Event()

    async def on_start(_pid: int, _ago: float) -> None:
        started.set()

    async def sink(_text: str) -> None:
        return None

    cancel = asyncio.Event()
    spec = ProcessSpec(argv=["sleep", "30"], env={"PATH": os.environ["PATH"]}, use_cgroup=False)
    task = asyncio.create_task(run_process(spec, sink, cancel, on_start))
    await started.wait()
    before = set(containment.children(os.getpid()))
    guard = Guard("test-worker")
    guard.start()
    try:
        (guard_pid,) = set(containment.children(os.getpid())) - before  # adopted by us
        cancel.set()
        result = await task
        assert result.outcome is Outcome.CANCELLED
        assert alive(guard_pid), "the run's end killed the worker's guard"
    finally:
        guard.close()
    assert not psutil.pid_exists(guard_pid), "the adopted guard was left a zombie"


async def test_a_host_without_a_usable_cgroup_falls_back_to_the_subreaper(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # A directory that looks like the worker's cgroup but is not on cgroupfs (as a read-only or
    # foreign mount would be): no cgroup for the run, and its daemon still dies with it.
    fake = tmp_path / "cgroup"
    fake.mkdir()
    (fake / "cgroup.procs").write_text("")
    monkeypatch.setattr(cgroups, "own_cgroup_dir", lambda: fake)
    monkeypatch.setattr(cgroups, "_parent", None)  # as when a worker starts
    monkeypatch.setattr(cgroups, "_cgroups_failed", False)
    out = str(tmp_path / "daemon")
    spec = marker_spec([sys.executable, "-c", DOUBLE_FORK, out, "clear"])

    result = await run(spec)

    assert cgroups.parent_cgroup() is None
    assert [p.name for p in fake.iterdir()] == ["cgroup.procs"]
    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
    assert_nothing_left(result, spec, [daemon_pid(out)])
    assert result.processes_killed == 1


async def test_subreaper_never_ends_an_orphan_another_running_run_may_own(tmp_path: Any) -> None:
    # Without a cgroup, a daemon with no marker created while two runs were going may belong to
    # either: the first run to end leaves it, the last one ends it.
    cancel = asyncio.Event()
    started = asyncio.Event()

    async def on_start(_pid: int, _ago: float) -> None:
        started.set()

    async def sink(_text: str) -> None:
        return None

    other_spec = marker_spec(["sleep", "30"], use_cgroup=False)
    other = asyncio.create_task(run_process(other_spec, sink, cancel, on_start))
    await started.wait()
    out = str(tmp_path / "daemon")
    # Until it execs, the daemon still carries this run's marker (and is rightly its own), so
    # the job ends only once the daemon runs sleep with its empty environment.
    code = DOUBLE_FORK + EXECED
    spec = marker_spec([sys.executable, "-c", code, out, "clear"], use_cgroup=False)

    result = await run(spec)

    pid = daemon_pid(out)
    assert result.processes_killed == 0
    assert alive(pid), "ended while a run that may own it was going"
    cancel.set()
    other_result = await other
    assert other_result.outcome is Outcome.CANCELLED
    assert_nothing_left(other_result, spec, [pid])
    assert other_result.processes_killed == 2  # its own main process and the orphan


# It forks only once it surely runs in its cgroup: the move follows the spawn (a fork before it
# is the subreaper's to catch, and is not counted).
BURNING_DAEMON = """
import os, sys, time
time.sleep(0.2)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass
        open(sys.argv[1], "w").write("burnt")
        time.sleep(300)
    os._exit(0)
os.wait()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
"""


async def test_the_cgroup_counts_the_cpu_of_processes_nobody_waited_for(
    mode: str, tmp_path: Any
) -> None:
    # The daemon burns 0.5 s of CPU; its parent never waits for it, so wait4 cannot see it.
    out = str(tmp_path / "burnt")
    spec = contained(marker_spec([sys.executable, "-c", BURNING_DAEMON, out]), mode)

    result = await run(spec)

    assert result.processes_killed == 1
    cpu = result.usage.cpu_user_seconds + result.usage.cpu_system_seconds
    if mode == "cgroup":
        assert cpu >= 0.45
    else:
        assert cpu < 0.45  # the known limit without a cgroup: the README says so


@pytest.mark.parametrize("env", ["kept", "clear"])
async def test_without_a_subreaper_the_marker_finds_daemons_that_keep_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, env: str
) -> None:
    # The last fallback (prctl refused): /proc is searched for the run's HYDRA_RUN_ID. A daemon
    # that cleared its environment cannot be found so: the README says so, this proves it.
    monkeypatch.setattr(containment, "_subreaper", False)
    monkeypatch.setattr(containment, "ensure_subreaper", lambda: False)
    out = str(tmp_path / "daemon")
    code = DOUBLE_FORK + EXECED  # until it execs, even the clearing daemon carries the marker
    spec = marker_spec([sys.executable, "-c", code, out, env], use_cgroup=False)

    result = await run(spec)

    pid = daemon_pid(out)
    if env == "kept":
        assert_nothing_left(result, spec, [pid])
        assert result.processes_killed == 1
        return
    try:
        assert alive(pid)
        assert result.processes_killed == 0
    finally:
        os.kill(pid, signal.SIGKILL)
        if psutil.Process(pid).ppid() == os.getpid():  # adopted: this process is a subreaper
            os.waitpid(pid, 0)


async def test_a_kept_daemon_is_left_alone_and_collected_once_it_ends(tmp_path: Any) -> None:
    out = str(tmp_path / "daemon")
    code = DOUBLE_FORK + EXECED
    kept = marker_spec([sys.executable, "-c", code, out, "clear"], keep_daemons=True)
    assert containment.ensure_subreaper()

    result = await run(kept)
    pid = daemon_pid(out)
    after = await run(marker_spec(["true"]))  # another run's end leaves the daemon alone

    assert (result.processes_killed, after.processes_killed) == (0, 0)
    assert alive(pid) and psutil.Process(pid).ppid() == os.getpid()  # adopted by us
    os.kill(pid, signal.SIGKILL)  # it ends (here: killed by its owner): a zombie of ours
    wait_for(lambda: not alive(pid), 5, "the daemon ended")
    await run(marker_spec(["true"]))
    assert not psutil.pid_exists(pid), "the kept daemon's zombie was never collected"
