"""run_as: which user a worker runs its jobs as, decided from HYDRA_RUN_AS and its own uid."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_jobs.errors import ConfigError
from hydra_jobs.worker import run_as
from hydra_jobs.worker.run_as import RunAs, job_path, job_python, resolve_run_as, stops

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX users")


def test_a_root_worker_drops_to_an_unprivileged_user_unless_root_is_asked_for() -> None:
    default = resolve_run_as(None, euid=0)
    expected = "hydra-job" if "hydra-job" in {p.pw_name for p in pwd.getpwall()} else "nobody"
    assert default is not None and default.name == expected and default.uid != 0
    assert resolve_run_as("root", euid=0) is None and resolve_run_as("0", euid=0) is None
    nobody = pwd.getpwnam("nobody")
    assert resolve_run_as(str(nobody.pw_uid), euid=0) == resolve_run_as("nobody", euid=0)
    with pytest.raises(ConfigError, match="not a user on this host"):
        resolve_run_as("no-such-user-hydra", euid=0)


def test_a_worker_that_is_not_root_runs_jobs_as_itself_and_refuses_another_user() -> None:
    nobody = pwd.getpwnam("nobody")
    assert resolve_run_as(None, euid=nobody.pw_uid) is None
    assert resolve_run_as("nobody", euid=nobody.pw_uid) is None  # itself: nothing to switch
    with pytest.raises(ConfigError, match="only a worker started as root"):
        resolve_run_as("root", euid=nobody.pw_uid)


def stranger() -> RunAs:
    """A user that owns nothing here and is in none of its groups: only "other" bits apply."""
    return RunAs("stranger", os.geteuid() + 54321, os.getegid() + 54321, "/nonexistent")


@pytest.fixture
def top() -> Iterator[Path]:
    """A directory others may pass through (pytest's tmp_path is closed to them)."""
    path = Path(tempfile.mkdtemp(prefix="hydra-reach-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path)


def tree(tmp_path: Path) -> dict[str, Path]:
    """In `tmp_path` (passable): a closed directory (0700), an open one (0755), files, a link."""
    closed, open_ = tmp_path / "closed", tmp_path / "open"
    closed.mkdir(mode=0o700)
    open_.mkdir(mode=0o755)
    for directory in (closed, open_):
        (directory / "tool").write_text("#!/bin/sh\n")
        (directory / "tool").chmod(0o755)
    (open_ / "data").write_text("not a program")
    (open_ / "data").chmod(0o644)
    (open_ / "link").symlink_to(closed / "tool")
    (closed / "venv-python").symlink_to(open_ / "tool")  # a virtualenv's bin/python, in /root
    (closed / "bindir").symlink_to(open_)
    return {"closed": closed, "open": open_}


def test_stops_names_where_a_user_is_stopped_following_links(top: Path) -> None:
    paths, user = tree(top), stranger()
    assert stops(user, str(paths["open"] / "tool"), execute=True) is None
    assert stops(user, str(paths["open"]), execute=True) is None  # searched
    assert stops(user, str(paths["closed"])) is None  # reached, its entry seen...
    assert stops(user, str(paths["closed"]), execute=True) == str(paths["closed"])  # ...unsearched
    assert stops(user, str(paths["closed"] / "tool"), execute=True) == str(paths["closed"])
    assert stops(user, str(paths["open"] / "link"), execute=True) == str(paths["closed"])
    assert stops(user, str(paths["open"] / "data"), execute=True) == str(paths["open"] / "data")
    assert stops(user, str(paths["open"] / "data")) is None  # reaching it is enough to read it
    assert stops(user, str(paths["open"] / "gone")) == str(paths["open"] / "gone")
    # A link out of a closed directory: its target is reachable, the way through it is not.
    assert stops(user, str(paths["closed"] / "venv-python"), execute=True) == str(paths["closed"])
    assert stops(user, str(paths["closed"] / "bindir"), execute=True) == str(paths["closed"])


def test_jobs_get_the_path_entries_their_user_can_reach(top: Path) -> None:
    paths, user = tree(top), stranger()
    given = os.pathsep.join(
        [str(paths["closed"]), str(paths["closed"] / "bindir"), str(paths["open"]), "", ".", "bin"]
    )
    assert job_path(user, given + os.pathsep + "/usr/bin") == os.pathsep.join(
        [str(paths["open"]), "/usr/bin"]
    )
    # Nothing of the worker's will do: the system's, never "" (the job's own directory).
    assert job_path(user, str(paths["closed"])) == os.pathsep.join(
        d for d in run_as.SYSTEM_PATH if os.path.isdir(d) and stops(user, d, execute=True) is None
    )
    assert job_path(user, str(paths["closed"])) != ""


def test_python_jobs_use_a_system_python_when_the_workers_is_out_of_reach(
    top: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    paths, user = tree(top), stranger()
    reachable = str(paths["open"] / "tool")
    monkeypatch.setattr(run_as.sys, "executable", reachable)
    assert job_python(user) == reachable  # the worker's own, when the user can run it

    monkeypatch.setattr(run_as.sys, "executable", str(paths["closed"] / "tool"))
    monkeypatch.setattr(run_as, "SYSTEM_PYTHONS", ("/nonexistent/python3", reachable))
    with caplog.at_level(logging.WARNING, logger=run_as.__name__):
        assert job_python(user) == reachable
    assert f"cannot run this worker's Python {paths['closed'] / 'tool'}" in caplog.text
    assert f"({paths['closed']})" in caplog.text and "use " + reachable in caplog.text

    monkeypatch.setattr(run_as, "SYSTEM_PYTHONS", ("/nonexistent/python3",))
    assert job_python(user) == str(paths["closed"] / "tool")  # nothing better: said, and kept
    assert "will fail" in caplog.records[-1].getMessage()
