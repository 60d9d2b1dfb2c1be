"""Turn a job's executor spec into a command, and build the environment the job runs with.

`build_command` and `build_env` are pure so the security-relevant rules are easy to test: a script
is always one argv element or the content of a private file (never spliced into a command line),
parameters travel only as environment variables, and the job sees an allow-listed environment,
never the worker's secrets. The I/O around them is small and kept here too: `resolve_shell` (once,
when the worker starts) and `script_file` (a `#!` script's file, for one run).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hydra_jobs.errors import ConfigError
from hydra_jobs.job_env import RESERVED_ENV_PREFIX, env_suffix, param_env_name, shebang

__all__ = [
    "Command",
    "ExecutorUnavailable",
    "build_command",
    "build_env",
    "explain_spawn_failure",
    "resolve_shell",
    "script_file",
]

EXECUTOR_TYPES = ("shell", "python", "batch")

# Only these survive from the worker's environment; anything else (REDIS_URL, ADMIN_TOKEN, API keys,
# DATABASE_URL...) stays with the worker.
POSIX_BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")
WINDOWS_EXTRA_BASE_ENV = (
    "SYSTEMROOT",
    "COMSPEC",
    "PATHEXT",
    "TEMP",
    "TMP",
    "WINDIR",
    "USERPROFILE",
)

# POSIX sh, as cron runs commands: on Debian that is dash, about half of bash's start-up CPU.
DEFAULT_POSIX_SHELL = "/bin/sh"
WINDOWS_SHELL = "cmd.exe"
SCRIPT_FILE_MODE = 0o700  # the owner (the worker's user) may read and exec it; nobody else

_NOT_FILE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_SHEBANG_ARG_SEPARATOR = re.compile(r"[ \t]")  # the kernel splits a #! line at spaces and tabs only


class ExecutorUnavailable(Exception):
    """This worker cannot run the requested executor."""


@dataclass(frozen=True, slots=True)
class Command:
    """How a job's process starts: exec `argv`; or, when `script_file` is set, write that text to
    a private executable file and exec the file itself (argv = [its path]), so that the kernel
    reads its `#!` line and picks the interpreter."""

    argv: list[str] = field(default_factory=list)
    script_file: str | None = None


def build_command(
    executor_type: str,
    script: str,
    interpreter: str | None = None,
    *,
    shell: str = DEFAULT_POSIX_SHELL,
    python: str | None = None,
    platform: str = sys.platform,
) -> Command:
    """Return how to run `script` with the given executor on `platform`.

    `shell` is the worker's resolved default shell (`resolve_shell`); Windows always uses cmd.exe,
    where a `#!` line means nothing. `python` runs python jobs that name no interpreter (default:
    this worker's own).
    """
    windows = _is_windows(platform)
    if executor_type == "shell":
        if windows:
            return Command([WINDOWS_SHELL, "/d", "/s", "/c", script])
        if shebang(script) is not None:
            return Command(script_file=script)
        return Command([shell, "-c", script])
    if executor_type == "python":
        return Command([interpreter or python or sys.executable, "-u", "-c", script])
    if executor_type == "batch":
        if not windows:
            raise ExecutorUnavailable(
                f"batch jobs need a Windows worker; this worker runs {platform}. "
                "Route the job to a Windows worker or use the shell executor."
            )
        return Command([WINDOWS_SHELL, "/d", "/c", script])
    raise ExecutorUnavailable(
        f"unknown executor type {executor_type!r}; use one of {', '.join(EXECUTOR_TYPES)}"
    )


def resolve_shell(setting: str | None, *, platform: str = sys.platform) -> str:
    """The absolute path of the program that runs shell jobs: HYDRA_SHELL (a name looked up on
    PATH, or a path), else /bin/sh. Raises `ConfigError` when it cannot be run.

    Called once when the worker starts, so no run pays for the PATH search.
    """
    if _is_windows(platform):
        if setting:
            raise ConfigError(
                f"HYDRA_SHELL={setting!r} is not supported on Windows workers: shell jobs run "
                "with cmd.exe there. Unset HYDRA_SHELL."
            )
        return WINDOWS_SHELL
    found = shutil.which(setting or DEFAULT_POSIX_SHELL)
    if found is not None:
        return os.path.abspath(found)
    if setting:
        raise ConfigError(
            f"HYDRA_SHELL={setting!r} is neither a program on PATH nor an executable file. "
            "Set HYDRA_SHELL to an installed shell (e.g. bash or /bin/bash), or unset it to run "
            f"shell jobs with {DEFAULT_POSIX_SHELL}."
        )
    raise ConfigError(
        f"{DEFAULT_POSIX_SHELL} is not an executable file, and shell jobs need a shell. "
        "Set HYDRA_SHELL to an installed shell (e.g. bash or /usr/bin/dash)."
    )


@contextlib.contextmanager
def script_file(script: str, run_id: str, parent: str | None = None) -> Iterator[str]:
    """Write `script` to a private executable file for one run; yield its path.

    The file (mode 0700) lives in a fresh directory (mode 0700) under `parent` (a confined run's
    own space), else under the worker's temp dir (TMPDIR), never in the job's checkout; both are
    removed when the block exits, however it does.
    """
    prefix = f"hydra-run-{_NOT_FILE_NAME_CHARS.sub('_', run_id)[:64]}-"
    with tempfile.TemporaryDirectory(
        prefix=prefix, dir=parent, ignore_cleanup_errors=True
    ) as directory:
        path = os.path.join(directory, "script")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SCRIPT_FILE_MODE)
        with open(fd, "wb") as fh:
            os.fchmod(fd, SCRIPT_FILE_MODE)  # whatever the worker's umask is
            fh.write(script.encode())
        yield path


def explain_spawn_failure(script: str, error: str) -> str:
    """`error` of a `#!` script that could not be started, with its interpreter named: exec
    reports a missing interpreter as ENOENT for the script itself, which misleads."""
    line = shebang(script) or ""
    interpreter = _SHEBANG_ARG_SEPARATOR.split(line, maxsplit=1)[0]
    if not interpreter:
        return f"{error} (the script's #! line names no interpreter)"
    if os.path.exists(interpreter):
        return f"{error} (#! line: {line!r})"
    hint = " (the script has Windows line endings)" if interpreter.endswith("\r") else ""
    return f"{error}: #! interpreter {interpreter!r} not found on this worker{hint}"


def build_env(
    *,
    job_env: Mapping[str, str],
    params: Mapping[str, str],
    run_meta: Mapping[str, str],
    base: Mapping[str, str] | None = None,
    path: str | None = None,
    platform: str = sys.platform,
) -> dict[str, str]:
    """Build the job environment: allow-listed base, then job env, then params, then run metadata.

    HYDRA_* is reserved for parameters and metadata, so the job's own env cannot set or spoof it.
    `path` replaces the base's PATH (the directories the jobs' user can reach); a job's own wins.
    """
    source = os.environ if base is None else base
    env = _allowed_base(source, platform)
    if path is not None and "PATH" in env:
        env["PATH"] = path
    env.update({k: v for k, v in job_env.items() if not _is_reserved(k)})
    env.update({param_env_name(k): v for k, v in params.items()})
    env.update({RESERVED_ENV_PREFIX + env_suffix(k): v for k, v in run_meta.items()})
    return env


def _allowed_base(source: Mapping[str, str], platform: str) -> dict[str, str]:
    if not _is_windows(platform):
        return {k: source[k] for k in POSIX_BASE_ENV if k in source}
    allowed = {*POSIX_BASE_ENV, *WINDOWS_EXTRA_BASE_ENV}
    # Windows variable names are case-insensitive ("Path" is PATH).
    return {k: v for k, v in source.items() if k.upper() in allowed}


def _is_reserved(name: str) -> bool:
    # upper(): on Windows hydra_run_id and HYDRA_RUN_ID are the same variable.
    return name.upper().startswith(RESERVED_ENV_PREFIX)


def _is_windows(platform: str) -> bool:
    return platform == "win32"
