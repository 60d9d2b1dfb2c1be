"""Jobs that run a script from a git repository, end to end: the real API, the embedded worker,
the real `git` binary and repositories made in a temp directory (I2-I4 in docs/reliability.md)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import Server, wait_for

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary"),
    pytest.mark.skipif(sys.platform == "win32", reason="shell scripts and symlinks: POSIX"),
]

# What every job prints: the version file and its directory, so each test can see what it got.
SHOW = 'echo "version=$(cat VERSION 2>/dev/null) commit=$HYDRA_SOURCE_COMMIT cwd=$PWD"'


class Repo:
    """A throwaway origin repository, changed with the real git binary."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = path.as_uri()
        path.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.path),  # no developer config leaks in
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
        }
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            if name.endswith(".sh"):
                target.chmod(0o755)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "origin")


@pytest.fixture
def git_server(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    return make_server(HYDRA_GIT_ALLOW_FILE=True, HYDRA_GIT_CACHE_DIR=tmp_path / "git-cache")


def run_job(
    server: Server, source: dict[str, Any], script: str = SHOW, **spec: Any
) -> dict[str, Any]:
    job = server.job(f"git-{len(source)}-{os.urandom(3).hex()}", script, source=source, **spec)
    return server.wait_run(server.client.trigger(job["id"])["id"], timeout=30)


def logs(server: Server, run: dict[str, Any]) -> str:
    return str(server.client.logs(run["id"])["data"])


def checkouts_left(cache: Path) -> list[Path]:
    where = cache / "checkouts"
    return list(where.iterdir()) if where.exists() else []


# running from a repository --------------------------------------------------------------------


def test_runs_a_script_from_the_repository(git_server: Server, repo: Repo, tmp_path: Path) -> None:
    sha = repo.commit({"run.sh": "#!/bin/sh\necho hello from the repo\n", "VERSION": "1"})
    done = run_job(git_server, {"url": repo.url}, f"./run.sh; {SHOW}")
    assert done["status"] == "succeeded", done
    out = logs(git_server, done)
    assert "hello from the repo" in out and f"version=1 commit={sha}" in out
    assert done["source_commit"] == sha
    # The per-run checkout is gone once the run has ended (before its final event).
    assert checkouts_left(tmp_path / "git-cache") == []


def test_branch_tag_and_commit_refs(git_server: Server, repo: Repo) -> None:
    first = repo.commit({"VERSION": "1"})
    repo.git("tag", "-a", "v1", "-m", "release 1")  # annotated: must peel to the commit
    repo.git("tag", "light", first)
    second = repo.commit({"VERSION": "2"})
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit({"VERSION": "feature"})
    repo.git("checkout", "-q", "main")
    expected = {
        None: ("2", second),
        "main": ("2", second),
        "feature": ("feature", feature),
        "refs/heads/feature": ("feature", feature),
        "v1": ("1", first),
        "light": ("1", first),
        first: ("1", first),
        first.upper(): ("1", first),
        first[:8]: ("1", first),  # abbreviated: resolved after fetching branches and tags
    }
    for ref, (version, sha) in expected.items():
        source = {"url": repo.url} if ref is None else {"url": repo.url, "ref": ref}
        done = run_job(git_server, source)
        assert done["status"] == "succeeded", (ref, done)
        assert done["source_commit"] == sha, ref
        assert f"version={version} commit={sha}" in logs(git_server, done), ref


def test_a_new_commit_is_picked_up_by_the_next_run(git_server: Server, repo: Repo) -> None:
    before = repo.commit({"VERSION": "1"})
    job = git_server.job("follow-main", SHOW, source={"url": repo.url, "ref": "main"})
    first = git_server.wait_run(git_server.client.trigger(job["id"])["id"], timeout=30)
    assert first["source_commit"] == before and "version=1" in logs(git_server, first)
    after = repo.commit({"VERSION": "2"})
    second = git_server.wait_run(git_server.client.trigger(job["id"])["id"], timeout=30)
    assert second["status"] == "succeeded", second
    assert second["source_commit"] == after and "version=2" in logs(git_server, second)


def test_path_sets_the_working_directory(git_server: Server, repo: Repo) -> None:
    repo.commit({"VERSION": "top", "jobs/nightly/VERSION": "nested", "jobs/nightly/go.sh": ""})
    done = run_job(git_server, {"url": repo.url, "path": "jobs/nightly"})
    assert done["status"] == "succeeded", done
    out = logs(git_server, done)
    assert "version=nested" in out and out.strip().endswith("/jobs/nightly")


def test_python_job_imports_from_the_checkout(git_server: Server, repo: Repo) -> None:
    repo.commit({"tool/helper.py": "ANSWER = 42\n"})
    script = "import helper; print('answer', helper.ANSWER)"
    done = run_job(git_server, {"url": repo.url, "path": "tool"}, script, type="python")
    assert done["status"] == "succeeded", (done, logs(git_server, done))
    assert logs(git_server, done) == "answer 42\n"


def test_two_concurrent_runs_of_one_repository(
    git_server: Server, repo: Repo, tmp_path: Path
) -> None:
    """Both runs prepare at once on a cold cache (the repository lock serialises the fetches),
    then run at the same time, each in its own checkout: a barrier in the script proves it."""
    sha = repo.commit({"VERSION": "1"})
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    arrived = f'$(ls "{barrier}" | wc -l)'
    script = (
        f'pwd > "{barrier}/$HYDRA_RUN_ID"; i=0; '  # arrive, then wait up to 20 s for the other
        f'while [ "{arrived}" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; '
        f'[ "{arrived}" -ge 2 ] && echo together; {SHOW}'
    )
    job = git_server.job("pair", script, source={"url": repo.url}, concurrency={"max_running": 2})
    runs = [git_server.client.trigger(job["id"]) for _ in range(2)]
    done = [git_server.wait_run(r["id"], timeout=40) for r in runs]
    for run in done:
        assert run["status"] == "succeeded", run
        assert run["source_commit"] == sha
        assert "together" in logs(git_server, run)
    cwds = {(barrier / run["id"]).read_text().strip() for run in done}
    assert len(cwds) == 2  # two separate checkouts
    assert checkouts_left(tmp_path / "git-cache") == []


# clear failures -------------------------------------------------------------------------------


def test_symlink_escaping_the_checkout_fails_the_run(
    git_server: Server, repo: Repo, tmp_path: Path
) -> None:
    """I4: `path` through a symlink to outside the checkout is refused; the job never runs."""
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = tmp_path / "ran"
    (repo.path / "escape").symlink_to(outside)
    (repo.path / "escape_rel").symlink_to("../../../../..")
    sha = repo.commit({"VERSION": "1"})
    for path in ("escape", "escape_rel"):
        done = run_job(git_server, {"url": repo.url, "path": path}, f"touch {marker}")
        assert done["status"] == "failed", done
        assert "outside the checkout" in done["error"] and path in done["error"]
        assert "Traceback" not in done["error"]
        assert done["source_commit"] == sha  # what was checked out is still on record
    assert not marker.exists()
    assert checkouts_left(tmp_path / "git-cache") == []


def test_unknown_ref_fails_clearly(git_server: Server, repo: Repo) -> None:
    repo.commit({"VERSION": "1"})
    done = run_job(git_server, {"url": repo.url, "ref": "no-such-branch"})
    assert done["status"] == "failed"
    assert done["error"] == f"ref 'no-such-branch' was not found in {repo.url}"
    missing = "0" * 40
    done = run_job(git_server, {"url": repo.url, "ref": missing})
    assert done["status"] == "failed"
    assert done["error"] == f"commit {missing} was not found in {repo.url}"
    assert done["source_commit"] is None


def test_unreachable_repository_fails_clearly(git_server: Server, tmp_path: Path) -> None:
    url = (tmp_path / "does-not-exist").as_uri()
    done = run_job(git_server, {"url": url})
    assert done["status"] == "failed"
    assert done["error"].startswith(f"could not fetch {url}: ")
    assert "does not appear to be a git repository" in done["error"]


def test_file_urls_fail_unless_the_operator_enables_them(
    make_server: Callable[..., Server], repo: Repo, tmp_path: Path
) -> None:
    repo.commit({"VERSION": "1"})
    cache = tmp_path / "git-cache-off"
    server = make_server(HYDRA_GIT_CACHE_DIR=cache)  # HYDRA_GIT_ALLOW_FILE left at its default
    done = run_job(server, {"url": repo.url})
    assert done["status"] == "failed"
    assert "HYDRA_GIT_ALLOW_FILE" in done["error"]
    assert not cache.exists()  # refused before git ran: not even a cache directory


def test_private_hosts_fail_unless_allowed(git_server: Server, tmp_path: Path) -> None:
    for url in ("https://127.0.0.1/r.git", "https://169.254.169.254/r.git", "git@localhost:r"):
        done = run_job(git_server, {"url": url})
        assert done["status"] == "failed"
        assert "HYDRA_GIT_ALLOW_PRIVATE_HOSTS" in done["error"], done["error"]
    assert not (tmp_path / "git-cache" / "mirrors").exists()


def test_ext_transport_creates_nothing(git_server: Server, tmp_path: Path) -> None:
    """I2 end to end: the API refuses `ext::` and `-` options outright; nothing is created."""
    marker = tmp_path / "pwned"
    bodies = [
        {"url": f"ext::sh -c touch% {marker}"},
        {"url": f"ext::sh%20-c%20touch%20{marker}"},
        {"url": f"--upload-pack=touch {marker}"},
        {"url": "file:///x", "ref": f"--upload-pack=touch {marker}"},
    ]
    for source in bodies:
        spec = {"name": "evil", "executor": {"type": "shell", "script": "true"}, "source": source}
        response = git_server.client.http.post("/jobs", json=spec)
        assert response.status_code == 422, response.text
    assert not marker.exists()
    assert not (tmp_path / "git-cache").exists()


# never stuck ----------------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (the handshake hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield int(listener.getsockname()[1])
    listener.close()


def _git_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "git" in child.name():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_hanging_remote_times_out(
    make_server: Callable[..., Server], tmp_path: Path, silent_server: int
) -> None:
    server = make_server(
        HYDRA_GIT_ALLOW_PRIVATE_HOSTS=True,
        HYDRA_GIT_TIMEOUT_SECONDS=2,
        HYDRA_GIT_CACHE_DIR=tmp_path / "git-cache",
    )
    done = run_job(server, {"url": f"https://127.0.0.1:{silent_server}/r.git"})
    assert done["status"] == "failed"
    assert "did not finish within the 2s allowed" in done["error"]
    wait_for(lambda: not _git_children(), 10, message="git processes to be gone")


def test_cancel_while_fetching(
    make_server: Callable[..., Server], tmp_path: Path, silent_server: int
) -> None:
    server = make_server(
        HYDRA_GIT_ALLOW_PRIVATE_HOSTS=True, HYDRA_GIT_CACHE_DIR=tmp_path / "git-cache"
    )
    job = server.job("hang", SHOW, source={"url": f"https://127.0.0.1:{silent_server}/r.git"})
    run = server.client.trigger(job["id"])
    wait_for(_git_children, 10, message="git to be fetching")
    server.client.cancel(run["id"])
    done = server.wait_run(run["id"], timeout=20)
    assert done["status"] == "cancelled"
    wait_for(lambda: not _git_children(), 10, message="git processes to be gone")
    # The API marks a queued run cancelled at once; the worker cleans up when git has stopped.
    wait_for(lambda: not checkouts_left(tmp_path / "git-cache"), 10, message="cleanup")
