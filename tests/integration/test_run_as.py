"""A root worker runs its jobs as an unprivileged user (HYDRA_RUN_AS, issue 13, RELIABILITY P5).

Real `hydra-jobs up` processes started as root: by default the jobs run as nobody (no hydra-job
user here), with that user's HOME, in a TMPDIR and a git checkout of their own, and cannot read
the worker's files even unconfined (HYDRA_CONFINE=off: file modes alone); HYDRA_RUN_AS=root
keeps root. A worker that is not root, or a user that does not exist, is refused at start.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import landlock
from hydra_jobs.worker.run_as import RunAs, stops
from tests.conftest import ADMIN, TERMINAL, wait_for
from tests.integration.test_git_source import Repo
from tests.procs import HYDRA, UpProcess

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root"
)
NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def root_dir() -> Iterator[Path]:
    """A directory others may pass through (pytest's tmp_path is closed to them)."""
    path = Path(tempfile.mkdtemp(prefix="hydra-run-as-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start_up(root: Path, **env: str) -> UpProcess:
    up = UpProcess(root / "data", HYDRA_RUNS_DIR=str(root / "runs"), **env)
    up.log = root / "up.log"
    if "HYDRA_RUN_AS" not in env:
        del up.env["HYDRA_RUN_AS"]  # the suite's default (conftest) is root
    return up.start()


def run_script(url: str, script: str, **spec: object) -> tuple[str, str]:
    return run_script_of(url, "shell", script, **spec)


def run_script_of(url: str, executor: str, script: str, **spec: object) -> tuple[str, str]:
    with Client(url, ADMIN) as client:
        name = f"who-{os.urandom(3).hex()}"
        body = {"name": name, "executor": {"type": executor, "script": script}, **spec}
        job = client.create_job(body)
        run_id = client.trigger(job["id"])["id"]
        status = wait_for(
            lambda: (s := client.get_run(run_id)["status"]) in TERMINAL and s, 30, message="run"
        )
        return status, client.logs(run_id)["data"]


@pytest.mark.parametrize("confine", ["off", "required"])
def test_a_root_worker_runs_jobs_as_nobody_by_default(root_dir: Path, confine: str) -> None:
    if confine == "required" and landlock.abi_version() == 0:
        pytest.skip("needs Landlock")
    up = start_up(root_dir, HYDRA_CONFINE=confine, HYDRA_GIT_ALLOW_FILE="true")
    try:
        script = (
            "#!/bin/sh\n"  # a script file: written by root, executed by nobody
            'echo "uid=$(id -u) gid=$(id -g) home=$HOME user=$USER"\n'
            'echo mine > "$TMPDIR/f" && echo "tmpdir=$(cat "$TMPDIR/f")"\n'
            f'cat "{up.data_dir}/hydra.db" >/dev/null 2>&1; echo "db=$?"\n'
            f'ls "{up.data_dir}" >/dev/null 2>&1; echo "datadir=$?"\n'
            f'ls "{root_dir}/runs" >/dev/null 2>&1; echo "runs=$?"\n'
        )
        status, output = run_script(up.url, script)
        assert status == "succeeded", output
        assert f"uid={NOBODY.pw_uid} gid={NOBODY.pw_gid} home={NOBODY.pw_dir} user=nobody" in output
        assert "tmpdir=mine" in output  # its own space is its own
        assert "db=1" in output and "datadir=2" in output and "runs=2" in output  # none else

        repo = Repo(root_dir / "origin")
        repo.commit({"VERSION": "7"})
        git_script = 'echo "$(cat VERSION)" && touch made-here && echo "owner=$(stat -c %u .)"'
        status, output = run_script(up.url, git_script, source={"url": repo.url})
        assert status == "succeeded", output
        assert output.split() == ["7", f"owner={NOBODY.pw_uid}"]
        for shared in (root_dir / "runs", root_dir / "runs" / "checkouts"):
            assert stat.S_IMODE(shared.stat().st_mode) == 0o711  # passable, never listable
    finally:
        up.stop()


def test_run_as_root_is_the_operators_explicit_choice(root_dir: Path) -> None:
    up = start_up(root_dir, HYDRA_RUN_AS="root")
    try:
        status, output = run_script(up.url, "id -u")
        assert status == "succeeded" and output.strip() == "0"
    finally:
        up.stop()


@pytest.mark.parametrize(
    ("runner", "value", "message"),
    [
        ((), "no-such-user-hydra", "is not a user on this host"),
        (
            ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
            "root",
            "only a worker started as root can run jobs as another user",
        ),
    ],
)
def test_a_run_as_that_cannot_work_is_refused_at_start(
    root_dir: Path, runner: tuple[str, ...], value: str, message: str
) -> None:
    (root_dir / "data").mkdir()
    os.chown(root_dir / "data", NOBODY.pw_uid, NOBODY.pw_gid)
    env = {**os.environ, "HYDRA_RUN_AS": value, "HYDRA_DATA_DIR": str(root_dir / "data")}
    done = subprocess.run(
        [*runner, HYDRA, "up", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_jobs_as_nobody_get_a_python_and_a_path_they_can_reach(root_dir: Path) -> None:
    """This worker's Python and PATH may live under /root (pyenv, a virtualenv), closed to
    nobody: python jobs failed with "Permission denied", and a missing command was reported as
    "Permission denied" too (the shell met a PATH directory it could not search)."""
    up = start_up(root_dir, HYDRA_CONFINE="off")
    try:
        status, output = run_script_of(up.url, "python", "import sys; print('py', 3)")
        assert (status, output) == ("succeeded", "py 3\n")
        status, output = run_script(up.url, 'echo "$PATH"; no-such-command-hydra')
        assert status == "failed" and "not found" in output, output
        path = output.splitlines()[0].split(os.pathsep)
        nobody = RunAs(NOBODY.pw_name, NOBODY.pw_uid, NOBODY.pw_gid, NOBODY.pw_dir)
        assert path and [e for e in path if stops(nobody, e, execute=True)] == []
    finally:
        up.stop()
