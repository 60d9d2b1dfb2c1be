"""run_as: which user a worker runs its jobs as, decided from HYDRA_RUN_AS and its own uid."""

from __future__ import annotations

import pwd
import sys

import pytest

from hydra_jobs.errors import ConfigError
from hydra_jobs.worker.run_as import resolve_run_as

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
