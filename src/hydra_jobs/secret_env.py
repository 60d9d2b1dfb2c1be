"""Take the secret settings out of the process's environment block before any job can start.

A job is a child of `hydra-jobs up` or `hydra-jobs worker`, and `/proc/$PPID/environ` (or `ps eww`
on macOS) shows the block the parent was exec'd with. Changing `os.environ` does not help: the
kernel reads the original block from the process's memory. So a server command that finds a
secret in its environment re-execs itself with the same argv and an environment without the
secrets, and hands the values over through a pipe (argv is no place for them either: anyone can
read `/proc/PID/cmdline`). The new process reads them once and passes them to `Settings` as init
values; they never enter `os.environ`, so no child inherits them. On Linux it also turns itself
non-dumpable, which makes its `/proc/PID` files (`environ`, `mem`, `fd`) root-only and forbids
ptrace by the same user: a job running as the worker's own user cannot read its memory either.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import sys
from collections.abc import Mapping

__all__ = ["HANDOFF_FD_VAR", "SECRET_SETTINGS", "is_secret_name", "recovered", "shed_secrets"]

log = logging.getLogger(__name__)

# The settings whose values give access to something (config.Settings). The CLI's HYDRA_TOKEN is
# the admin or a domain token too. Matched case-insensitively, as pydantic-settings reads them.
SECRET_SETTINGS = (
    "ADMIN_TOKEN",
    "API_TOKEN",
    "REDIS_URL",
    "DATABASE_URL",
    "MONGO_URL",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "HYDRA_TOKEN",
    "HYDRA_HEARTBEAT_URL",
)
HANDOFF_FD_VAR = "HYDRA_SECRETS_FD"  # only a descriptor number: harmless to leave in the block
# A pipe holds at least this much without a reader on every POSIX system (macOS: 16 KiB), so the
# writer never blocks before the exec; real tokens and URLs are far smaller.
MAX_HANDOFF_BYTES = 16 * 1024
PR_SET_DUMPABLE = 4
SELF_EXE = "/proc/self/exe"

_recovered: dict[str, str] = {}


def is_secret_name(name: str) -> bool:
    return name.upper() in SECRET_SETTINGS


def recovered() -> dict[str, str]:
    """The secret settings this process was handed at its re-exec, by their canonical names."""
    return dict(_recovered)


def shed_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Make sure this server process's environment block holds no secret (POSIX).

    Call first thing in a command that runs jobs (or holds the store). In the original process:
    re-exec when a secret is in the environment (does not return). In the re-exec'd process:
    read the handed-over values. Either way, end non-dumpable on Linux.
    """
    if sys.platform == "win32":
        return  # no environment-reading interface for other processes of the user to protect
    env = os.environ if environ is None else environ
    if HANDOFF_FD_VAR in os.environ:
        _receive(int(os.environ.pop(HANDOFF_FD_VAR)))
    else:
        # An empty variable means unset (as for Settings): nothing to hand over or hide.
        secrets = {k.upper(): v for k, v in env.items() if is_secret_name(k) and v}
        if secrets:
            _reexec_without(secrets)  # returns only if it could not
    set_non_dumpable()


def _reexec_without(secrets: dict[str, str]) -> None:
    payload = json.dumps(secrets).encode()
    if len(payload) > MAX_HANDOFF_BYTES or not sys.executable:
        log.warning(
            "cannot re-exec without the secret settings (%s): they stay in this process's "
            "environment, readable by processes of the same user",
            "values too large" if sys.executable else "no interpreter path",
            extra={"action": "secrets_kept"},
        )
        return
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, payload)
    finally:
        os.close(write_end)
    os.set_inheritable(read_end, True)
    clean = {k: v for k, v in os.environ.items() if not is_secret_name(k)}
    clean[HANDOFF_FD_VAR] = str(read_end)
    sys.stdout.flush()
    sys.stderr.flush()
    # The same interpreter, options and script as this process: /proc/PID/cmdline is unchanged.
    # Linux: exec the running binary itself, which works even where a directory on the way to
    # sys.executable is closed to this user (a venv whose python links into /root/.pyenv).
    binary = SELF_EXE if os.path.exists(SELF_EXE) else sys.executable
    os.execve(binary, [sys.executable, *sys.orig_argv[1:]], clean)


def _receive(fd: int) -> None:
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    _recovered.update(json.loads(b"".join(chunks)))


def set_non_dumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0) on Linux: /proc/PID/{environ,mem,fd} become root-only and the
    same user can no longer ptrace us. The flag is reset by exec, so jobs are not affected."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning(
            "could not make the process non-dumpable: %s",
            os.strerror(ctypes.get_errno()),
            extra={"action": "secrets_dumpable"},
        )
        return False
    return True
