"""Run the system `git` with a locked-down configuration and environment.

Every call gets: only the https and ssh transports (file only when the operator allows it), no
hooks, no fsmonitor, no submodule recursion, no prompts (a missing credential fails instead of
hanging the run), a deadline, and the run's cancel event. git runs through `run_process`, so a
timeout or cancel kills git's whole tree (ssh, remote helpers) like any job's. Its environment is
an allow-list: the worker's tokens never reach git.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra_jobs.git_errors import GitCancelled, GitSourceError, GitTimeout
from hydra_jobs.worker.executors import build_env
from hydra_jobs.worker.process.spec import Outcome, ProcessSpec
from hydra_jobs.worker.process.supervise import run_process

__all__ = ["Deadline", "GitOutput", "GitRunner", "git_env", "hardening_config"]

GIT_KILL_GRACE_SECONDS = 2.0  # git has nothing to save: TERM, then KILL soon after
GIT_OUTPUT_CAP_BYTES = 256 * 1024  # git's own chatter; a hostile server cannot grow it further

# Beyond the job's base allow-list, git may need to reach an ssh agent, a proxy or a custom CA.
GIT_PASSTHROUGH_ENV = (
    "SSH_AUTH_SOCK",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "GIT_SSL_CAINFO",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
# BatchMode: ssh fails on a passphrase, password or unknown host key instead of prompting.
DEFAULT_SSH_COMMAND = "ssh -o BatchMode=yes"
MAX_SUMMARY_CHARS = 300
# Advice git prints after the real reason; it only hides the reason in a one-line error.
_GENERIC_GIT_LINES = (
    "Could not read from remote repository",
    "Please make sure you have the correct access rights",
    "and the repository exists",
)


def hardening_config(*, allow_file: bool, follow_redirects: bool) -> list[str]:
    """`-c` options for every git call. They reach git's child processes too (via
    GIT_CONFIG_PARAMETERS), so a nested clone or fetch is held to the same rules."""
    settings = {
        "protocol.allow": "never",  # no ext::, fd::, git://, http:// ...
        "protocol.https.allow": "always",
        "protocol.ssh.allow": "always",
        "protocol.file.allow": "always" if allow_file else "never",
        "core.hooksPath": os.devnull,
        "core.fsmonitor": "false",
        "submodule.recurse": "false",
        "fetch.recurseSubmodules": "false",
        # A redirect would reach a host that was never checked (I3).
        "http.followRedirects": "true" if follow_redirects else "false",
        # Auto-gc in the foreground, so it finishes while we hold the repository's lock.
        "gc.autoDetach": "false",
        "maintenance.autoDetach": "false",
        "advice.detachedHead": "false",
        "credential.interactive": "false",
    }
    options: list[str] = []
    for key, value in settings.items():
        options += ["-c", f"{key}={value}"]
    return options


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs with: the job base allow-list plus what git needs to connect."""
    source = os.environ if base is None else base
    env = build_env(job_env={}, params={}, run_meta={}, base=source)
    env.update({k: source[k] for k in GIT_PASSTHROUGH_ENV if k in source})
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:  # the operator's choice wins
        env["GIT_SSH_COMMAND"] = DEFAULT_SSH_COMMAND
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GCM_INTERACTIVE"] = "never"  # Git Credential Manager: never open a window
    env["LC_ALL"] = "C"  # messages in English, so "couldn't find remote ref" can be recognised
    return env


class Deadline:
    """One time budget shared by every step of preparing a checkout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise GitTimeout(f"preparing the git source took longer than {self.seconds:g}s")
        return left


@dataclass(frozen=True, slots=True)
class GitOutput:
    exit_code: int
    output: str  # stdout and stderr together

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def summary(self) -> str:
        """git's complaint in one line for an error message, without its generic advice."""
        lines = [ln.strip() for ln in self.output.splitlines() if ln.strip()]
        useful = [ln for ln in lines if not any(g in ln for g in _GENERIC_GIT_LINES)]
        text = "; ".join(dict.fromkeys(useful or lines)) or f"git exited with {self.exit_code}"
        return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 3] + "..."


@functools.cache
def _git_binary() -> str | None:
    return shutil.which("git")


class GitRunner:
    """Runs git commands for one run's checkout: shared config, env, deadline and cancel."""

    def __init__(
        self,
        *,
        config: Sequence[str],
        deadline: Deadline,
        cancel: asyncio.Event,
        env: Mapping[str, str] | None = None,
        use_cgroup: bool = True,
    ) -> None:
        self.config = list(config)
        self.use_cgroup = use_cgroup
        self.deadline = deadline
        self.cancel = cancel
        self.env = dict(env) if env is not None else git_env()

    async def run(
        self, args: Sequence[str], *, cwd: Path | None = None, extra: Sequence[str] = ()
    ) -> GitOutput:
        """Run `git <config> <extra> <args>`; a non-zero exit is returned, not raised."""
        binary = _git_binary()
        if binary is None:
            raise GitSourceError("git is not installed on this worker (not found on PATH)")
        spec = ProcessSpec(
            argv=[binary, *self.config, *extra, *args],
            env=self.env,
            cwd=str(cwd) if cwd is not None else None,
            timeout_seconds=self.deadline.remaining(),
            kill_grace_seconds=GIT_KILL_GRACE_SECONDS,
            output_cap_bytes=GIT_OUTPUT_CAP_BYTES,
            use_cgroup=self.use_cgroup,
        )
        chunks: list[str] = []

        async def collect(text: str) -> None:
            chunks.append(text)

        result = await run_process(spec, collect, self.cancel)
        if result.outcome is Outcome.CANCELLED:
            raise GitCancelled("the run was cancelled while its git source was being prepared")
        if result.outcome is Outcome.TIMED_OUT:
            raise GitTimeout(
                f"git {args[0]} did not finish within the {self.deadline.seconds:g}s allowed"
            )
        if result.outcome is Outcome.SPAWN_FAILED or result.exit_code is None:
            raise GitSourceError(f"cannot run git: {result.error}")
        return GitOutput(result.exit_code, "".join(chunks))
