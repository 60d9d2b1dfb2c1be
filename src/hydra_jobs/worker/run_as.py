"""Which user a root worker runs its jobs as (HYDRA_RUN_AS, issue 13; RELIABILITY P5).

A job that runs as root reads every file on the host, its worker's memory included. So a worker
started as root runs its jobs as an unprivileged user: HYDRA_RUN_AS, else `hydra-job` when that
user exists (the README's set-up creates it), else `nobody`. Running them as root takes an
explicit HYDRA_RUN_AS=root. A worker that is not root cannot switch users: it refuses a
HYDRA_RUN_AS other than its own user instead of silently ignoring it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from hydra_jobs.errors import ConfigError

__all__ = ["DEFAULT_USERS", "RunAs", "give_to", "resolve_run_as"]

DEFAULT_USERS = ("hydra-job", "nobody")  # the first that exists, for a root worker
ROOT_NAMES = ("root", "0")


@dataclass(frozen=True, slots=True)
class RunAs:
    name: str
    uid: int
    gid: int
    home: str


def resolve_run_as(setting: str | None, euid: int | None = None) -> RunAs | None:
    """The user jobs run as; None: the worker's own. `ConfigError` when it cannot be."""
    if sys.platform == "win32":
        if setting:
            raise ConfigError("HYDRA_RUN_AS is not supported on Windows workers")
        return None
    import pwd

    euid = os.geteuid() if euid is None else euid
    value = (setting or "").strip()
    if euid != 0:
        if value and value not in (pwd.getpwuid(euid).pw_name, str(euid)):
            raise ConfigError(
                f"HYDRA_RUN_AS={value!r}: only a worker started as root can run jobs as another "
                "user; unset HYDRA_RUN_AS, or start the worker as root (or as that user)"
            )
        return None
    if value in ROOT_NAMES:
        return None  # the operator's explicit choice
    for name in [value] if value else DEFAULT_USERS:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
            if entry.pw_uid == 0:
                return None
            return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)
    raise ConfigError(
        f"HYDRA_RUN_AS={value!r} is not a user on this host: create it (see the README) or "
        "name an existing unprivileged user"
        if value
        else "a root worker runs jobs as an unprivileged user, but neither hydra-job nor nobody "
        "exists: create one (see the README), or set HYDRA_RUN_AS=root to run jobs as root"
    )


def give_to(path: Path, run_as: RunAs) -> None:
    """Make `path` and everything beneath it `run_as`'s (a run's space or checkout: the job
    works in it as that user). Links are changed themselves, never followed."""
    os.lchown(path, run_as.uid, run_as.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), run_as.uid, run_as.gid)
