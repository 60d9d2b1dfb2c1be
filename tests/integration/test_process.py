"""Real-subprocess tests for the worker's process layer (P1-P3, P6, I1 in docs/reliability.md).

Every test spawns actual processes and checks the OS afterwards with psutil: nothing it started
may be left alive, output must arrive intact and bounded, and numbers must come from the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from hydra_jobs.worker.executors import build_command, build_env
from hydra_jobs.worker.process import support
from hydra_jobs.worker.process.output import READ_CHUNK_BYTES
from hydra_jobs.worker.process.spec import Outcome, ProcessResult, ProcessSpec
from hydra_jobs.worker.process.supervise import DRAIN_WINDOW_SECONDS, run_process

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process semantics"),
]

MIB = 1024 * 1024
GONE_TIMEOUT_SECONDS = 5.0  # killed orphans are reaped by PID 1, which may take a while
SLACK_SECONDS = 1.0  # scheduling noise allowed on top of any computed bound


def job_env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"]}


def spec(argv: list[str], **kwargs: Any) -> ProcessSpec:
    return ProcessSpec(argv=argv, env=job_env(), **kwargs)


def bash(script: str, **kwargs: Any) -> ProcessSpec:
    return spec(["bash", "-c", script], **kwargs)


def py(code: str, **kwargs: Any) -> ProcessSpec:
    return spec([sys.executable, "-c", code], **kwargs)


class Output:
    """An OutputSink that records every chunk it is given."""

    def __init__(self, on_chunk: Callable[[str], None] | None = None) -> None:
        self.chunks: list[str] = []
        self.times: list[float] = []
        self._on_chunk = on_chunk

    async def __call__(self, text: str) -> None:
        self.chunks.append(text)
        self.times.append(time.monotonic())
        if self._on_chunk is not None:
            self._on_chunk(text)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


async def run(
    the_spec: ProcessSpec,
    sink: Output | None = None,
    cancel: asyncio.Event | None = None,
    on_start: Callable[[int, float], Awaitable[None]] | None = None,
) -> ProcessResult:
    return await run_process(the_spec, sink or Output(), cancel or asyncio.Event(), on_start)


async def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.01
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie; psutil's identity check means a reused pid does not count."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


async def assert_all_gone(procs: list[psutil.Process]) -> None:
    """None may be alive now; zombies must be reaped (by PID 1 for orphans) soon after."""
    assert procs, "the test collected no processes, so it proves nothing"
    assert [p.pid for p in procs if alive(p)] == []
    await wait_until(
        lambda: not any(p.is_running() for p in procs), GONE_TIMEOUT_SECONDS, "zombies reaped"
    )


def tree_of(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class TreeWatch:
    """on_start hook that lets a test wait for the job's tree and keep handles to its members."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.procs: list[psutil.Process] = []

    async def __call__(self, pid: int, _ago: float = 0.0) -> None:
        self.pid = pid
        self.procs = [psutil.Process(pid)]

    async def wait_for(self, count: int) -> list[psutil.Process]:
        await wait_until(lambda: self.pid is not None, 5, "spawn")
        assert self.pid is not None
        pid = self.pid

        def grown() -> bool:
            self.procs = tree_of(pid)
            return len(self.procs) >= count

        await wait_until(grown, 5, f"{count} processes in the job's tree")
        return self.procs


def pids_from(text: str, prefix: str) -> list[psutil.Process]:
    pids = [int(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)]
    return [psutil.Process(pid) for pid in pids]


async def assert_reported_gone(text: str, prefix: str) -> None:
    """The processes whose pids the job printed are gone. The worker (a subreaper) may have
    reaped them already, so a pid that no longer exists counts as gone."""
    pids = [int(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)]
    assert pids, "the job reported no pids, so the test proves nothing"
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    assert [p.pid for p in procs if alive(p)] == []
    await wait_until(lambda: not any(p.is_running() for p in procs), GONE_TIMEOUT_SECONDS, "reaped")


# --- spawning, exit codes, sessions ---------------------------------------------------------------


async def test_exit_code_and_merged_output() -> None:
    sink = Output()
    started: list[int] = []

    async def on_start(pid: int, _ago: float) -> None:
        started.append(pid)

    result = await run(bash("echo out; echo err >&2; exit 3"), sink, on_start=on_start)

    assert result.outcome is Outcome.EXITED
    assert result.exit_code == 3
    assert result.error == "exited with code 3"
    assert sink.text == "out\nerr\n"
    assert result.output_bytes == len("out\nerr\n")
    assert not result.truncated
    assert started == [result.pid]


async def test_clean_exit_has_no_error_and_is_reaped() -> None:
    result = await run(spec(["true"]))

    assert (result.outcome, result.exit_code, result.error) == (Outcome.EXITED, 0, None)
    assert result.pid is not None
    assert not psutil.pid_exists(result.pid) or psutil.Process(result.pid).ppid() != os.getpid()


async def test_job_runs_in_its_own_session_and_group() -> None:
    sink = Output()
    result = await run(py("import os; print(os.getpid(), os.getpgid(0), os.getsid(0))"), sink)

    pid, pgid, sid = map(int, sink.text.split())
    assert pid == pgid == sid == result.pid
    assert os.getsid(0) != sid


async def test_stdin_is_dev_null_by_default() -> None:
    sink = Output()
    result = await run(spec(["readlink", "/proc/self/fd/0"]), sink)

    assert result.exit_code == 0
    assert sink.text == "/dev/null\n"


async def test_stdin_data_is_fed_even_when_larger_than_a_pipe() -> None:
    data = b"".join(b"line %d\n" % i for i in range(40_000))  # ~300 KB, well past 64 KiB
    sink = Output()
    result = await run(spec(["cat"], stdin_data=data, timeout_seconds=10), sink)

    assert result.exit_code == 0
    assert sink.text.encode() == data


async def test_cwd_is_used(tmp_path: Path) -> None:
    sink = Output()
    await run(spec(["pwd"], cwd=str(tmp_path)), sink)

    assert sink.text.strip() == str(tmp_path.resolve())


async def test_job_that_closes_stdout_early_is_still_waited_for() -> None:
    result = await run(bash("echo bye; exec >&- 2>&-; sleep 0.3; exit 5"))

    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 5)
    # Wall time counts from Popen's return, which a busy machine delays by some ms past the exec.
    assert result.usage.wall_seconds >= 0.3 - 0.05


async def test_killed_by_signal_gives_negative_signal_number() -> None:
    result = await run(bash("kill -9 $$"))

    assert result.outcome is Outcome.EXITED
    assert result.exit_code == -signal.SIGKILL
    assert result.error == "killed by signal SIGKILL"


@pytest.mark.parametrize(
    ("argv", "cwd", "expected"),
    [
        (["nope-no-such-program"], None, "spawn failed: [Errno 2] No such file or directory"),
        (["true"], "/no/such/dir", "spawn failed: [Errno 2] No such file or directory"),
        ([], None, "spawn failed: empty argv"),
    ],
)
async def test_spawn_failure_is_a_result_not_an_exception(
    argv: list[str], cwd: str | None, expected: str
) -> None:
    started: list[int] = []

    async def on_start(pid: int, _ago: float) -> None:
        started.append(pid)

    result = await run(spec(argv, cwd=cwd), on_start=on_start)

    assert result.outcome is Outcome.SPAWN_FAILED
    assert result.error is not None and result.error.startswith(expected)
    assert (result.pid, result.exit_code, started) == (None, None, [])


async def test_cancel_already_set_spawns_nothing() -> None:
    cancel = asyncio.Event()
    cancel.set()
    started: list[int] = []

    async def on_start(pid: int, _ago: float) -> None:
        started.append(pid)

    result = await run(spec(["true"]), cancel=cancel, on_start=on_start)

    assert (result.outcome, result.pid, started) == (Outcome.CANCELLED, None, [])


# --- P1: cancel and timeout kill the whole tree ---------------------------------------------------

TREES = {
    "plain": "sleep 999 & sleep 999 & wait",
    # setsid moves a descendant out of the job's process group, and with stdout elsewhere nothing
    # but the tree snapshot taken before signalling can find it.
    "setsid": "setsid sleep 999 >/dev/null 2>&1 & sleep 999 & wait",
}


async def escaped_session(procs: list[psutil.Process], timeout: float = 5.0) -> None:
    """Wait until a descendant has left the job's session (setsid runs just after its fork)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while {os.getsid(p.pid) for p in procs} == {procs[0].pid}:
        assert asyncio.get_running_loop().time() < deadline, "setsid did not escape"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("tree", sorted(TREES))
@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_cancel_and_timeout_kill_and_reap_the_whole_tree(how: str, tree: str) -> None:
    cancel = asyncio.Event()
    watch = TreeWatch()
    timeout = 1.0 if how == "timeout" else None
    the_spec = bash(TREES[tree], timeout_seconds=timeout, kill_grace_seconds=2.0)
    task = asyncio.create_task(run(the_spec, cancel=cancel, on_start=watch))
    procs = await watch.wait_for(3)
    if tree == "setsid":
        await escaped_session(procs)
    if how == "cancel":
        cancel.set()

    result = await task

    assert result.outcome is (Outcome.CANCELLED if how == "cancel" else Outcome.TIMED_OUT)
    assert result.error == ("cancelled" if how == "cancel" else "timed out after 1s")
    assert result.exit_code == -signal.SIGTERM
    await assert_all_gone(procs)


async def test_term_ignoring_tree_is_killed_after_the_grace_period() -> None:
    cancel = asyncio.Event()
    watch = TreeWatch()
    grace = 0.5
    the_spec = bash("trap '' TERM; sleep 999 & sleep 999 & wait", kill_grace_seconds=grace)
    task = asyncio.create_task(run(the_spec, cancel=cancel, on_start=watch))
    procs = await watch.wait_for(3)
    cancelled_at = time.monotonic()
    cancel.set()

    result = await task

    elapsed = time.monotonic() - cancelled_at
    assert grace <= elapsed < grace + SLACK_SECONDS
    assert result.exit_code == -signal.SIGKILL
    await assert_all_gone(procs)


async def test_calling_task_cancelled_kills_and_reaps_before_propagating() -> None:
    watch = TreeWatch()
    task = asyncio.create_task(run(bash(TREES["setsid"]), on_start=watch))
    procs = await watch.wait_for(3)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not procs[0].is_running(), "the main process was not reaped"
    await assert_all_gone(procs)


async def test_failing_on_start_kills_the_job_and_propagates() -> None:
    handles: list[psutil.Process] = []

    async def on_start(pid: int, _ago: float) -> None:
        handles.append(psutil.Process(pid))
        raise RuntimeError("store unavailable")

    with pytest.raises(RuntimeError, match="store unavailable"):
        await run(spec(["sleep", "999"]), on_start=on_start)

    assert not handles[0].is_running()


async def test_failing_sink_kills_the_job_and_propagates() -> None:
    watch = TreeWatch()
    procs: list[psutil.Process] = []

    def explode(text: str) -> None:
        procs.extend([*watch.procs, *pids_from(text, "bg=")])
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await run(bash('sleep 999 & echo "bg=$!"; wait'), Output(explode), on_start=watch)

    await assert_all_gone(procs)


# --- P2: a grandchild holding stdout cannot hang the run ------------------------------------------


async def test_background_grandchild_holding_stdout_is_killed_after_drain_window() -> None:
    sink = Output()
    grace = 1.0
    started = time.monotonic()

    result = await run(bash('sleep 600 & echo "bg=$!"; echo done', kill_grace_seconds=grace), sink)

    elapsed = time.monotonic() - started
    assert DRAIN_WINDOW_SECONDS <= elapsed < DRAIN_WINDOW_SECONDS + grace + SLACK_SECONDS
    assert (result.outcome, result.exit_code, result.error) == (Outcome.EXITED, 0, None)
    assert "done" in sink.text
    await assert_reported_gone(sink.text, "bg=")


async def test_escaped_grandchild_holding_stdout_is_found_and_killed() -> None:
    # setsid + orphaned: in no group of ours and no longer in the tree; found through the pipe.
    sink = Output()
    started = time.monotonic()

    result = await run(bash('setsid sleep 600 & echo "bg=$!"; echo done'), sink)

    assert time.monotonic() - started < 2 * DRAIN_WINDOW_SECONDS + SLACK_SECONDS
    assert (result.outcome, result.exit_code) == (Outcome.EXITED, 0)
    await assert_reported_gone(sink.text, "bg=")


async def test_leftover_with_stdout_closed_is_killed_without_waiting() -> None:
    sink = Output()
    started = time.monotonic()

    result = await run(bash('sleep 600 >/dev/null 2>&1 & echo "bg=$!"'), sink)

    assert time.monotonic() - started < DRAIN_WINDOW_SECONDS
    assert result.exit_code == 0
    await assert_reported_gone(sink.text, "bg=")


async def test_timeout_with_grandchild_holding_stdout_returns_in_time() -> None:
    grace = 1.0
    watch = TreeWatch()
    started = time.monotonic()
    the_spec = bash("sleep 600 & sleep 600", timeout_seconds=1, kill_grace_seconds=grace)
    task = asyncio.create_task(run(the_spec, on_start=watch))
    procs = await watch.wait_for(2)

    result = await task

    assert time.monotonic() - started < 1 + grace + SLACK_SECONDS
    assert result.outcome is Outcome.TIMED_OUT
    await assert_all_gone(procs)


# --- output ---------------------------------------------------------------------------------------


async def test_multibyte_character_split_across_reads_is_decoded_intact() -> None:
    code = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "for part in (b'\\xc3', b'\\xa9 \\xe2\\x82', b'\\xac', b'\\n'):\n"
        "    out.write(part); out.flush(); time.sleep(0.05)\n"
    )
    sink = Output()

    await run(py(code, flush_interval_seconds=0.01), sink)

    assert sink.text == "é €\n"


async def test_invalid_utf8_is_replaced_not_fatal() -> None:
    sink = Output()
    result = await run(py("import sys; sys.stdout.buffer.write(b'a\\xffb')"), sink)

    assert sink.text == "a\ufffdb"
    assert result.output_bytes == 3


async def test_output_streams_while_the_job_runs() -> None:
    cancel = asyncio.Event()
    sink = Output(lambda text: cancel.set() if "first" in text else None)
    the_spec = py(
        "import time; print('first', flush=True); time.sleep(60)", flush_interval_seconds=0.05
    )

    result = await run(the_spec, sink, cancel)

    assert result.outcome is Outcome.CANCELLED
    assert sink.chunks[0] == "first\n"


async def test_small_writes_are_batched_per_flush_interval() -> None:
    code = "import time\nfor i in range(50):\n    print(i, flush=True); time.sleep(0.01)\n"
    sink = Output()
    interval = 0.2

    result = await run(py(code, flush_interval_seconds=interval), sink)

    assert sink.text == "".join(f"{i}\n" for i in range(50))
    # ~0.5 s of output in ~3 batches, not 50 calls (bounded by the run's real duration)
    assert 2 <= len(sink.chunks) <= result.usage.wall_seconds / interval + 2, sink.chunks


async def test_large_output_is_flushed_by_size_without_waiting_for_the_interval() -> None:
    flush_bytes = 64 * 1024
    sink = Output()
    code = "import sys; sys.stdout.write('y' * (1024 * 1024))"

    result = await run(py(code, flush_interval_seconds=60, flush_bytes=flush_bytes), sink)

    assert result.output_bytes == MIB
    assert len(sink.text) == MIB
    assert len(sink.chunks) >= MIB // (flush_bytes + READ_CHUNK_BYTES)
    assert max(map(len, sink.chunks)) < flush_bytes + READ_CHUNK_BYTES


@pytest.mark.parametrize(("written", "truncated"), [(25, True), (10, False)])
async def test_output_cap_forwards_prefix_and_one_marker(written: int, truncated: bool) -> None:
    sink = Output()
    code = f"import sys; sys.stdout.write(('0123456789' * 3)[:{written}])"

    result = await run(py(code, output_cap_bytes=10), sink)

    marker = "\n[hydra: output truncated after 10 bytes]\n" if truncated else ""
    assert sink.text == "0123456789" + marker
    assert (result.output_bytes, result.truncated) == (written, truncated)


async def test_p3_flood_is_capped_and_memory_stays_flat() -> None:
    total = 300_000_000
    cap = MIB
    me = psutil.Process()
    gc.collect()
    baseline = me.memory_info().rss
    peak = baseline
    sink = Output()

    async def sample_rss() -> None:
        nonlocal peak
        while True:
            peak = max(peak, me.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample_rss())
    try:
        script = f"head -c {total} /dev/zero | tr '\\0' x"
        result = await run(bash(script, output_cap_bytes=cap, timeout_seconds=25), sink)
    finally:
        sampler.cancel()

    assert result.outcome is Outcome.EXITED, result.error
    assert result.output_bytes == total
    assert result.truncated
    assert sink.text == "x" * cap + f"\n[hydra: output truncated after {cap} bytes]\n"
    assert peak - baseline < 50 * MIB


def burn_cpu(seconds: float) -> str:
    """Python code that spends about `seconds` of CPU, mostly user time: the CPU clock is read
    rarely because on some VMs reading it is a syscall, which would count as system time."""
    return (
        "import time\n"
        f"end = time.process_time() + {seconds}\n"
        "while time.process_time() < end:\n"
        "    for _ in range(100_000): pass\n"
    )


# --- resource usage -------------------------------------------------------------------------------


async def test_cpu_time_comes_from_the_kernel() -> None:
    result = await run(py(burn_cpu(0.3)))

    assert result.usage.cpu_user_seconds >= 0.2
    assert result.usage.wall_seconds >= 0.25


async def test_peak_rss_comes_from_the_kernel() -> None:
    # A child inherits the worker's high-water mark until it execs, so allocate well above ours.
    size = psutil.Process().memory_info().rss + 100 * MIB
    result = await run(py(f"b = b'x' * {size}"))

    assert result.exit_code == 0
    assert result.usage.peak_rss_bytes >= size
    assert result.usage.as_dict()["peak_rss_bytes"] == result.usage.peak_rss_bytes


# --- without pidfd (other OSes): waiter thread + psutil sampling ----------------------------------


@pytest.fixture
def no_pidfd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "pidfd_supported", lambda: False)


@pytest.mark.usefixtures("no_pidfd")
async def test_fallback_runs_and_reports_exit_and_usage() -> None:
    sink = Output()
    code = burn_cpu(0.5) + "print('hi')\nraise SystemExit(4)\n"

    result = await run(py(code), sink)

    assert (result.outcome, result.exit_code, sink.text) == (Outcome.EXITED, 4, "hi\n")
    assert result.usage.cpu_user_seconds >= 0.2  # sampled: a lower bound
    assert result.usage.peak_rss_bytes > 0


@pytest.mark.usefixtures("no_pidfd")
async def test_fallback_cancel_kills_the_tree() -> None:
    cancel = asyncio.Event()
    watch = TreeWatch()
    task = asyncio.create_task(run(bash(TREES["setsid"]), cancel=cancel, on_start=watch))
    procs = await watch.wait_for(3)
    cancel.set()

    result = await task

    assert result.outcome is Outcome.CANCELLED
    await assert_all_gone(procs)


# --- executors end to end (P6, I1) ----------------------------------------------------------------

SECRETS = {
    "ADMIN_TOKEN": "s3cret-admin",
    "REDIS_URL": "redis://:pw@localhost:6379/0",
    "OPENAI_API_KEY": "sk-test",
    "GEMINI_API_KEY": "gm-test",
    "DATABASE_URL": "postgresql://u:pw@db/hydra",
    "MONGO_URL": "mongodb://u:pw@mongo/hydra",
}


async def test_p6_worker_secrets_never_reach_the_job() -> None:
    base = {**os.environ, **SECRETS}
    env = build_env(
        job_env={"GREETING": "hello"},
        params={"region": "eu-west"},
        run_meta={"run_id": "r-1"},
        base=base,
    )
    sink = Output()

    result = await run_process(ProcessSpec(["env"], env), sink, asyncio.Event())

    assert result.exit_code == 0
    seen = dict(line.split("=", 1) for line in sink.text.splitlines() if "=" in line)
    assert not set(SECRETS) & set(seen)
    assert not any(value in sink.text for value in SECRETS.values())
    assert seen["GREETING"] == "hello"
    assert seen["HYDRA_PARAM_REGION"] == "eu-west"
    assert seen["HYDRA_RUN_ID"] == "r-1"
    assert seen["PATH"] == os.environ["PATH"]


async def test_i1_parameter_is_data_not_shell_code() -> None:
    target = Path(f"/tmp/xyz-{uuid.uuid4()}")
    value = f'"; touch {target} #'
    env = build_env(job_env={}, params={"x": value}, run_meta={})
    argv = build_command("shell", 'echo "$HYDRA_PARAM_X"').argv
    sink = Output()

    result = await run_process(ProcessSpec(argv, env), sink, asyncio.Event())

    assert result.exit_code == 0
    assert sink.text == value + "\n"
    assert not target.exists()


async def test_python_executor_runs_real_python() -> None:
    argv = build_command("python", "import sys; print('py', sys.version_info[0])").argv
    sink = Output()

    result = await run_process(ProcessSpec(argv, job_env()), sink, asyncio.Event())

    assert result.exit_code == 0
    assert sink.text == "py 3\n"
