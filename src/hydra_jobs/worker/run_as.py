"""Which user a root worker runs its jobs as (HYDRA_RUN_AS, issue 13; RELIABILITY P5).

A job that runs as root reads every file on the host, its worker's memory included. So a worker
started as root runs its jobs as an unprivileged user: HYDRA_RUN_AS, else `hydra-job` when that
user exists (the README's set-up creates it), else `nobody`. Running them as root takes an
explicit HYDRA_RUN_AS=root. A worker that is not root cannot switch users: it refuses a
HYDRA_RUN_AS other than its own user instead of silently ignoring it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from hydra_jobs.errors import ConfigError

__all__ = [
    "DEFAULT_USERS",
    "RunAs",
    "give_to",
    "job_path",
    "job_python",
    "resolve_run_as",
    "stops",
]

log = logging.getLogger(__name__)
# Where a system Python usually is: for python jobs when the worker's own is out of their reach.
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")  # jobs' PATH when none of the worker's will do

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


def stops(run_as: RunAs, path: str, *, execute: bool = False) -> str | None:
    """Where `run_as` (its uid and group, no other group: as its jobs run) is stopped on its way
    to `path`, or with `execute` from running it (a file) or searching it (a directory); None
    when it is not. The directories on the way are those of `path` as written and of its real
    location: a virtualenv's `bin/python` links to a reachable Python from inside /root. Reads
    file modes only: an ACL that would let it through is not seen (the cautious side)."""
    written, real = Path(os.path.abspath(path)), Path(os.path.realpath(path))
    try:
        for directory in dict.fromkeys([*reversed(written.parents), *reversed(real.parents)]):
            if not _may_search(os.stat(directory), run_as):
                return str(directory)
        target = os.stat(real)
    except OSError:
        return str(real)
    if execute and not (
        (stat.S_ISREG(target.st_mode) or stat.S_ISDIR(target.st_mode))
        and _may_search(target, run_as)
    ):
        return str(real)
    return None


def _may_search(st: os.stat_result, run_as: RunAs) -> bool:
    """Whether the x bit that applies to `run_as` (owner, else group, else other) is set."""
    if st.st_uid == run_as.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == run_as.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def job_python(run_as: RunAs) -> str:
    """The interpreter of python jobs that name none: this worker's where `run_as` can run it,
    else a system Python it can (a root user's pyenv or virtualenv under /root is out of reach
    of `nobody`: every python job failed with "Permission denied"), said once, loudly."""
    own = sys.executable
    if (stopped := stops(run_as, own, execute=True)) is None:
        return own
    why = f"jobs run as {run_as.name}, who cannot run this worker's Python {own} ({stopped})"
    for candidate in SYSTEM_PYTHONS:
        if os.path.exists(candidate) and stops(run_as, candidate, execute=True) is None:
            log.warning(
                "%s: python jobs without an interpreter of their own use %s, without this "
                "worker's packages; set the job's `interpreter`, or install Python where %s "
                "can run it",
                why,
                candidate,
                run_as.name,
                extra={"action": "run_as_python"},
            )
            return candidate
    log.warning(
        "%s, nor a system Python: python jobs without an interpreter of their own will fail; "
        "set the job's `interpreter`",
        why,
        extra={"action": "run_as_python"},
    )
    return own


def job_path(run_as: RunAs, path: str) -> str:
    """`path` (a PATH) without the directories `run_as` cannot reach (a shell searching one
    reports a missing command as "Permission denied" instead of "not found") and without the
    relative ones (empty included: they name the job's working directory, its checkout); when
    nothing is left, the system's directories it can reach."""
    entries = path.split(os.pathsep)
    kept = [e for e in entries if os.path.isabs(e) and stops(run_as, e, execute=True) is None]
    if dropped := [e for e in entries if e not in kept]:
        log.info(
            "jobs run as %s: PATH entries it cannot reach, or relative ones, are left out of "
            "theirs: %s",
            run_as.name,
            ", ".join(repr(e) for e in dropped),
            extra={"action": "run_as_path"},
        )
    if not kept:
        kept = [e for e in SYSTEM_PATH if stops(run_as, e, execute=True) is None]
    return os.pathsep.join(kept)
