"""Confined jobs (Landlock, issue 13): a job cannot reach the worker's files or other runs'.

A real `hydra-jobs up` runs a job that probes what it must not reach (the admin token, the
database, the data dir, the `.env` up read its settings from, another run's private temp dir,
the parent's memory, the database through the parent's descriptors, a signal to the parent) and
what it must still do (read system files, run Python, write its own TMPDIR and /tmp, read the
project's files). Without confinement every probe is open: the test fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import landlock
from hydra_jobs.worker.run_space import lock_dir
from tests.cluster import Cluster
from tests.conftest import TERMINAL, Server, wait_for
from tests.integration.test_git_source import Repo
from tests.procs import UpProcess

pytestmark = pytest.mark.skipif(landlock.abi_version() == 0, reason="needs Linux with Landlock")

# `probe NAME COMMAND` prints "open NAME" when COMMAND succeeds, else "shut NAME".
# The probes run in a child shell: $UP is the job's parent (the worker), exported first.
PROBE = (
    "export UP=$PPID\n"
    'probe() { if sh -c "$2" >/dev/null 2>&1; then echo "open $1"; else echo "shut $1"; fi; }\n'
)
MUST_BE_SHUT = {
    "token": 'cat "$DATA/admin_token"',
    "database": 'head -c 16 "$DATA/hydra.db"',
    "data-dir": 'ls "$DATA"',
    "runs": 'ls "$DATA/runs"',
    "dotenv": 'cat "$PROJECT/.env"',
    "other-run": 'cat "$OTHER"',
    "parent-memory": "head -c 1 /proc/$UP/mem",
    "parent-db-fd": 'for f in /proc/$UP/fd/*; do case "$(readlink $f)" in *hydra.db) '
    'head -c 16 "$f" && exit 0;; esac; done; exit 1',
    "signal-parent": "kill -0 $UP",
}
MUST_BE_OPEN = {
    "system": "cat /etc/passwd && ls /usr/bin",
    "python": f'{sys.executable} -c "print(1)"',
    "own-tmpdir": 'echo x > "$TMPDIR/f" && cat "$TMPDIR/f"',
    "tmp": 'f=/tmp/hydra-confine-$$ && echo x > "$f" && rm "$f"',
    "project-file": 'cat "$PROJECT/README"',
}


def probes(checks: dict[str, str]) -> str:
    return "".join(f"probe {name} '{command}'\n" for name, command in checks.items())


def outcome(output: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in output.splitlines() if " " in line}


@pytest.fixture
def project() -> Iterator[Path]:
    """A project directory with a .env, outside /tmp (so that /tmp is not on the way to the
    data dir, as in a real set-up, and jobs keep creating files there)."""
    root = Path(tempfile.mkdtemp(prefix="hydra-confine-", dir="/var/tmp"))
    (root / "README").write_text("a project file\n")
    (root / ".env").write_text("LOG_LEVEL=INFO\n")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def wait_end(client: Client, run_id: str) -> dict[str, object]:
    done: dict[str, object] = wait_for(
        lambda: (r := client.get_run(run_id))["status"] in TERMINAL and r, 30, message="the run"
    )
    return done


def test_a_job_of_up_reaches_none_of_its_files_nor_another_runs(project: Path) -> None:
    data = project / ".hydra" / "data"
    up = UpProcess(data, cwd=project, HYDRA_CONFINE="required")
    up.log = project / "up.log"
    del up.env["ADMIN_TOKEN"]  # up generates and stores it in the data dir
    try:
        up.start()
        env = {"DATA": str(data), "PROJECT": str(project)}
        with Client(up.url, (data / "admin_token").read_text().strip()) as client:
            keeper = client.create_job(
                {
                    "name": "keeper",
                    "executor": {
                        "type": "shell",
                        "script": 'echo s3cret > "$TMPDIR/mine"; echo "$TMPDIR/mine"; sleep 60',
                    },
                }
            )
            kept = client.trigger(keeper["id"])["id"]
            other = wait_for(lambda: client.logs(kept)["data"].strip(), 20, message="keeper")
            script = PROBE + probes(MUST_BE_SHUT) + probes(MUST_BE_OPEN)
            spec = {"name": "prober", "executor": {"type": "shell", "script": script}}
            prober = client.create_job({**spec, "env": {**env, "OTHER": other}})
            run_id = client.trigger(prober["id"])["id"]
            run = wait_end(client, run_id)
            output = client.logs(run_id)["data"]
            client.cancel(kept)
        assert run["status"] == "succeeded", output
        seen = outcome(output)
        assert seen == {
            **dict.fromkeys(MUST_BE_SHUT, "shut"),
            **dict.fromkeys(MUST_BE_OPEN, "open"),
        }
        assert Path(other).read_text() == "s3cret\n"  # the other run's file was there all along
    finally:
        up.stop()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_a_git_job_works_in_its_checkout_but_cannot_reach_the_cache(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    cache = tmp_path / "git-cache"
    server = make_server(
        HYDRA_GIT_ALLOW_FILE=True, HYDRA_GIT_CACHE_DIR=cache, HYDRA_CONFINE="required"
    )
    repo = Repo(tmp_path / "origin")
    repo.commit({"VERSION": "7"})
    checks = {
        "checkout": "cat VERSION && touch made-here && git status --short",
        "mirrors": f"ls {cache}/mirrors",
        "checkouts": f"ls {cache}/checkouts",
    }
    spec = {"executor": {"type": "shell", "script": PROBE + probes(checks)}}
    job = server.job("git-prober", spec["executor"]["script"], source={"url": repo.url})
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    output = server.client.logs(run["id"])["data"]
    assert run["status"] == "succeeded", output
    assert outcome(output) == {"checkout": "open", "mirrors": "shut", "checkouts": "shut"}
    assert any((cache / "mirrors").iterdir())  # the cache is there: the job just cannot see it


def test_a_job_of_a_distributed_worker_cannot_reach_its_data_dir(project: Path) -> None:
    """The same confinement in distributed mode: a real `hydra-jobs worker` on Redis."""
    data = project / "worker-data"
    cluster = Cluster(project / "cluster")
    try:
        cluster.scheduler()
        worker = cluster.worker("confined", 1, HYDRA_CONFINE="required", HYDRA_DATA_DIR=str(data))
        checks = {
            "data-dir": 'ls "$DATA"',
            "runs": 'ls "$DATA/runs"',
            "signal-parent": "kill -0 $UP",
            "parent-memory": "head -c 1 /proc/$UP/mem",
        }
        script = PROBE + probes(checks) + probes(MUST_BE_OPEN)
        client = cluster.client()
        job = client.create_job(
            {
                "name": "prober",
                "executor": {"type": "shell", "script": script},
                "env": {"DATA": str(data), "PROJECT": str(project)},
            }
        )
        run = wait_end(client, client.trigger(job["id"])["id"])
        output = client.logs(str(run["id"]))["data"]
        assert run["status"] == "succeeded", output
        assert run["worker_id"] in worker.worker_ids()
        assert outcome(output) == {
            **dict.fromkeys(checks, "shut"),
            **dict.fromkeys(MUST_BE_OPEN, "open"),
        }
        assert (data / "runs").is_dir()  # there, but out of the job's reach
    finally:
        cluster.close()


def test_a_starting_worker_removes_run_spaces_nobody_holds(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Spaces of a worker killed mid-run are removed at the next start; a live one is kept."""
    runs = tmp_path / "data0" / "runs"  # make_server's first data dir
    abandoned, live = runs / "hydra-run-dead-0a0a0a", runs / "hydra-run-live-0b0b0b"
    for space in (abandoned, live):
        space.mkdir(parents=True)
        (space / "left").write_text("x")
    held = lock_dir(live)  # as a live worker sharing the directory holds it
    assert held is not None
    try:
        server = make_server(HYDRA_CONFINE="required")
        assert not abandoned.exists()
        assert (live / "left").exists()
        run = server.wait_run(server.client.trigger(server.job("j", "true")["id"])["id"])
        assert run["status"] == "succeeded"
        assert [p.name for p in runs.iterdir()] == [live.name]  # the run's own is gone too
    finally:
        os.close(held)
