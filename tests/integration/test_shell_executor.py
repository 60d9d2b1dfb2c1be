"""Shell jobs end to end: /bin/sh by default, HYDRA_SHELL, and scripts that start with a #! line.

Jobs run through a real server and its embedded worker (`make_server`) as real processes; a bad
HYDRA_SHELL is tried on `hydra-jobs up` and `hydra-jobs worker` as real processes too.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.tokens import mint
from hydra_jobs.worker.executors import script_file
from hydra_jobs.worker.process.spec import Outcome, ProcessSpec
from hydra_jobs.worker.process.supervise import run_process
from tests.conftest import Server, free_port, wait_for
from tests.integration.test_git_source import Repo
from tests.procs import HYDRA, cli_env

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells"),
]

BASH_ONLY = "[[ 1 == 1 ]] && echo yes"
PRINTS_ITS_PATH = '#!/bin/sh\necho "$0"\n'
RACE_RUNS = 400  # without a retry on ETXTBSY, a few of these fail on a 2-core machine


def run_job(server: Server, script: str, **spec: Any) -> tuple[dict[str, Any], str]:
    """Create a job, trigger it, wait for its end; the run and its output."""
    job = server.job(f"job-{os.urandom(4).hex()}", script, **spec)
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    return run, server.client.logs(run["id"])["data"]


def leftover_dirs(run_id: str) -> list[str]:
    """The run's script directories still in the worker's temp dir (this process's)."""
    return glob.glob(os.path.join(tempfile.gettempdir(), f"hydra-run-{run_id}-*"))


def assert_script_dir(script_path: str, server: Server, run_id: str) -> None:
    """The script's directory is in the worker's temp dir or, when the run is confined
    (Landlock), in the run's own space in the data dir, where other jobs cannot reach it."""
    parent = os.path.dirname(os.path.dirname(script_path))
    assert parent == tempfile.gettempdir() or (
        os.path.dirname(parent) == str(server.data_dir / "runs")
        and os.path.basename(parent).startswith(f"hydra-run-{run_id}-")
    ), script_path


def assert_removed(script_path: str, run_id: str) -> None:
    assert os.path.basename(script_path) == "script", script_path
    assert not os.path.exists(script_path), f"{script_path} is left behind"
    assert not os.path.exists(os.path.dirname(script_path))
    space = os.path.dirname(os.path.dirname(script_path))
    if os.path.basename(space).startswith(f"hydra-run-{run_id}-"):  # a confined run's space
        assert not os.path.exists(space)
    assert leftover_dirs(run_id) == []


# --- the default shell ----------------------------------------------------------------------------


def test_shell_jobs_run_with_bin_sh_by_default(server: Server) -> None:
    run, output = run_job(server, 'echo "$0"')
    assert (run["status"], output) == ("succeeded", "/bin/sh\n")

    run, output = run_job(server, BASH_ONLY)
    assert run["status"] == "failed" and run["exit_code"] == 127, run
    assert "[[: not found" in output


def test_hydra_shell_chooses_the_shell(make_server: Callable[..., Server]) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    server = make_server(HYDRA_SHELL="bash")

    run, output = run_job(server, BASH_ONLY)
    assert (run["status"], output) == ("succeeded", "yes\n")
    run, output = run_job(server, 'echo "$0"')
    assert (run["status"], output) == ("succeeded", f"{bash}\n")


# --- #! scripts ---------------------------------------------------------------------------------


def test_a_bash_shebang_runs_the_script_with_bash(server: Server) -> None:
    run, output = run_job(server, "#!/bin/bash\n" + BASH_ONLY)
    assert (run["status"], output) == ("succeeded", "yes\n")

    run, output = run_job(server, "#!/usr/bin/env bash\nset -o pipefail\necho {1..3}")
    assert (run["status"], output) == ("succeeded", "1 2 3\n")


def test_an_env_python3_shebang_runs_python_with_the_job_environment(server: Server) -> None:
    script = (
        "#!/usr/bin/env python3\n"
        "import os, sys\n"
        "print(sys.version_info[0], os.environ['HYDRA_PARAM_WHO'])\n"
        "print(__file__)\n"
    )
    run, output = run_job(server, script, params={"who": {"default": "you"}})
    assert run["status"] == "succeeded", (run, output)
    first, path = output.splitlines()
    assert first == "3 you"
    assert_removed(path, run["id"])


def test_a_perl_shebang_with_an_argument(server: Server) -> None:
    perl = shutil.which("perl")
    if perl is None:
        pytest.skip("perl is not installed")
    run, output = run_job(server, f"#!{perl} -l\nprint 'from perl';")
    assert (run["status"], output) == ("succeeded", "from perl\n")


def test_a_missing_interpreter_fails_the_run_and_is_named(server: Server) -> None:
    run, output = run_job(server, "#!/no/such/interpreter\necho never")
    assert run["status"] == "failed", run
    assert run["error"].startswith("spawn failed: ")
    assert "No such file or directory" in run["error"]
    assert "#! interpreter '/no/such/interpreter' not found on this worker" in run["error"]
    assert output == ""
    assert leftover_dirs(run["id"]) == []


def test_a_missing_interpreter_behind_env_fails_with_envs_message(server: Server) -> None:
    run, output = run_job(server, "#!/usr/bin/env no-such-interpreter\necho never")
    assert (run["status"], run["exit_code"]) == ("failed", 127)
    assert "no-such-interpreter" in output and "No such file or directory" in output


@pytest.mark.parametrize(
    ("status", "script", "spec"),
    [
        ("succeeded", PRINTS_ITS_PATH, {}),
        ("failed", PRINTS_ITS_PATH + "exit 3\n", {}),
        ("timed_out", PRINTS_ITS_PATH + "sleep 30\n", {"timeout_seconds": 1}),
    ],
)
def test_the_script_file_is_removed_when_the_run_ends(
    server: Server, status: str, script: str, spec: dict[str, Any]
) -> None:
    run, output = run_job(server, script, **spec)
    assert run["status"] == status, run
    assert_removed(output.strip(), run["id"])


def test_the_script_file_is_private_while_it_runs_and_removed_on_cancel(server: Server) -> None:
    job = server.job("cancelled", PRINTS_ITS_PATH + "sleep 30\n")
    run_id = server.client.trigger(job["id"])["id"]
    output = wait_for(
        lambda: server.client.logs(run_id)["data"], 10, message="the job to print its path"
    )
    path = output.strip()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert_script_dir(path, server, run_id)

    server.client.cancel(run_id)
    assert server.wait_run(run_id)["status"] == "cancelled"
    assert_removed(path, run_id)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_a_shebang_script_of_a_git_job_runs_in_the_checkout_from_the_temp_dir(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    cache = tmp_path / "git-cache"
    server = make_server(HYDRA_GIT_ALLOW_FILE=True, HYDRA_GIT_CACHE_DIR=cache)
    repo = Repo(tmp_path / "origin")
    repo.commit({"VERSION": "7"})
    script = '#!/bin/bash\necho "$(cat VERSION)"; pwd; echo "$0"'
    run, output = run_job(server, script, source={"url": repo.url})
    assert run["status"] == "succeeded", (run, output)
    version, cwd, path = output.splitlines()
    assert version == "7" and Path(cwd).is_relative_to(cache.resolve())
    assert_script_dir(path, server, run["id"])
    assert_removed(path, run["id"])


# --- many at once ---------------------------------------------------------------------------------


async def discard(_text: str) -> None:
    return None


async def test_many_shebang_scripts_start_while_other_jobs_spawn() -> None:
    """A script file is written while spawner threads fork other jobs; a child forked meanwhile
    holds the file open for writing until it execs, and exec of the file fails with ETXTBSY
    ("Text file busy") in that window. Every run must start anyway."""
    env = {"PATH": os.environ["PATH"]}
    slots = asyncio.Semaphore(16)

    async def one(i: int) -> str | None:
        async with slots:
            if i % 2:
                await run_process(ProcessSpec(["/bin/true"], env), discard, asyncio.Event())
                return None
            with script_file("#!/bin/sh\nexit 0\n", f"busy{i}") as path:
                result = await run_process(ProcessSpec([path], env), discard, asyncio.Event())
        ok = result.outcome is Outcome.EXITED and result.exit_code == 0
        return None if ok else result.error

    errors = [e for e in await asyncio.gather(*map(one, range(2 * RACE_RUNS))) if e is not None]
    assert errors == [], f"{len(errors)} of {RACE_RUNS} runs did not start: {errors[:3]}"


# --- a HYDRA_SHELL that cannot work ---------------------------------------------------------------

BAD_SHELL = "no-such-shell-anywhere"


def test_a_bad_hydra_shell_stops_up_before_it_serves(tmp_path: Path) -> None:
    env = cli_env(HYDRA_SHELL=BAD_SHELL)  # no ADMIN_TOKEN: up would generate and store one
    result = subprocess.run(
        [HYDRA, "up", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"HYDRA_SHELL='{BAD_SHELL}' is neither a program on PATH" in result.stderr
    assert "Set HYDRA_SHELL to an installed shell" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "data" / "admin_token").exists(), "up went on before failing"


def test_a_bad_hydra_shell_stops_the_worker_before_it_connects() -> None:
    env = cli_env(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}",  # nothing listens: never reached
        API_TOKEN=mint().value,
        HYDRA_SHELL="/etc/passwd",  # a file, not an executable
    )
    result = subprocess.run([HYDRA, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "HYDRA_SHELL='/etc/passwd' is neither a program on PATH" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
