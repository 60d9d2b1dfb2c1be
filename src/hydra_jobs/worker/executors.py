"""Turn a job's executor spec into an argv, and build the environment the job runs with.

Both are pure functions so the security-relevant rules are easy to test: a script is always one
argv element (never spliced into a command line), parameters travel only as environment variables,
and the job sees an allow-listed environment, never the worker's secrets.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from collections.abc import Mapping

__all__ = ["ExecutorUnavailable", "build_command", "build_env", "param_env_name"]

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

RESERVED_ENV_PREFIX = "HYDRA_"
PARAM_ENV_PREFIX = "HYDRA_PARAM_"
FALLBACK_POSIX_SHELL = "/bin/sh"

_NOT_ENV_NAME_CHARS = re.compile(r"[^A-Z0-9_]")


class ExecutorUnavailable(Exception):
    """This worker cannot run the requested executor."""


def build_command(
    executor_type: str,
    script: str,
    interpreter: str | None = None,
    *,
    platform: str = sys.platform,
) -> list[str]:
    """Return the argv that runs `script` with the given executor on `platform`."""
    windows = _is_windows(platform)
    if executor_type == "shell":
        if windows:
            return ["cmd.exe", "/d", "/s", "/c", script]
        return [_posix_shell(), "-c", script]
    if executor_type == "python":
        return [interpreter or sys.executable, "-u", "-c", script]
    if executor_type == "batch":
        if not windows:
            raise ExecutorUnavailable(
                f"batch jobs need a Windows worker; this worker runs {platform}. "
                "Route the job to a Windows worker or use the shell executor."
            )
        return ["cmd.exe", "/d", "/c", script]
    raise ExecutorUnavailable(
        f"unknown executor type {executor_type!r}; use one of {', '.join(EXECUTOR_TYPES)}"
    )


@functools.cache
def _posix_shell() -> str:
    """bash when the worker has it (looked up once: PATH search costs a stat per directory)."""
    return shutil.which("bash") or FALLBACK_POSIX_SHELL


def param_env_name(name: str) -> str:
    """Name of the environment variable that carries parameter `name` (HYDRA_PARAM_<NAME>)."""
    return PARAM_ENV_PREFIX + _env_suffix(name)


def build_env(
    *,
    job_env: Mapping[str, str],
    params: Mapping[str, str],
    run_meta: Mapping[str, str],
    base: Mapping[str, str] | None = None,
    platform: str = sys.platform,
) -> dict[str, str]:
    """Build the job environment: allow-listed base, then job env, then params, then run metadata.

    HYDRA_* is reserved for parameters and metadata, so the job's own env cannot set or spoof it.
    """
    source = os.environ if base is None else base
    env = _allowed_base(source, platform)
    env.update({k: v for k, v in job_env.items() if not _is_reserved(k)})
    env.update({param_env_name(k): v for k, v in params.items()})
    env.update({RESERVED_ENV_PREFIX + _env_suffix(k): v for k, v in run_meta.items()})
    return env


def _allowed_base(source: Mapping[str, str], platform: str) -> dict[str, str]:
    allowed = set(POSIX_BASE_ENV)
    if not _is_windows(platform):
        return {k: source[k] for k in allowed if k in source}
    if _is_windows(platform):
        allowed.update(WINDOWS_EXTRA_BASE_ENV)
        # Windows variable names are case-insensitive ("Path" is PATH).
        return {k: v for k, v in source.items() if k.upper() in allowed}
    return {k: v for k, v in source.items() if k in allowed}


def _is_reserved(name: str) -> bool:
    # upper(): on Windows hydra_run_id and HYDRA_RUN_ID are the same variable.
    return name.upper().startswith(RESERVED_ENV_PREFIX)


def _env_suffix(name: str) -> str:
    return _NOT_ENV_NAME_CHARS.sub("_", name.upper())


def _is_windows(platform: str) -> bool:
    return platform == "win32"
