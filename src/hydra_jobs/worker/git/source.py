"""A run's git source: validate it, check it out from the worker's cache, remove it afterwards.

`open_checkout` is what the worker calls before spawning a job that has a `source`. The order
matters: every input check (scheme, `-` prefixes, transport helpers, ref format, the host's
addresses) happens before git first runs; then the cache fetches, a fresh directory gets the
exact commit, and the job's cwd is confined to it. A failure at any step is a `GitSourceError`
whose message is the run's error; `source_failure` turns it into the run's result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

from hydra_jobs.config import default_data_dir
from hydra_jobs.git_errors import GitCancelled, GitSourceError, GitTimeout
from hydra_jobs.git_inputs import (
    DEFAULT_PORTS,
    RepoKind,
    RepoUrl,
    check_ref,
    parse_repo_url,
)
from hydra_jobs.job_spec import Source
from hydra_jobs.worker.git.cache import RepoCache
from hydra_jobs.worker.git.checkout_files import confine
from hydra_jobs.worker.git.command import Deadline, GitRunner, hardening_config
from hydra_jobs.worker.git.hosts import resolve_host
from hydra_jobs.worker.git.options import GitOptions
from hydra_jobs.worker.process.spec import Outcome, ProcessResult, ResourceUsage

__all__ = [
    "Checkout",
    "GitSourceError",
    "cache_root",
    "open_checkout",
    "pinned_resolution",
    "source_failure",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checkout:
    root: Path  # the run's own checkout, symlinks resolved
    commit: str  # the exact commit checked out (full SHA)

    def workdir(self, path: str | None) -> Path:
        """The job's cwd: `path` inside the checkout (I4), or the checkout itself."""
        return confine(self.root, path)


def cache_root(options: GitOptions) -> Path:
    return options.cache_dir or default_data_dir() / "git-cache"


@contextlib.asynccontextmanager
async def open_checkout(
    source: Source, options: GitOptions, run_id: str, cancel: asyncio.Event
) -> AsyncIterator[Checkout]:
    """Check out `source` for one run; the directory is removed when the block exits."""
    started = time.monotonic()
    repo = parse_repo_url(source.url, allow_file=options.allow_file)
    ref = check_ref(source.ref)
    deadline = Deadline(options.timeout_seconds)
    addresses = await _checked_addresses(repo, options, deadline)
    config = hardening_config(
        allow_file=options.allow_file, follow_redirects=options.allow_private_hosts
    )
    git = GitRunner(
        config=config + pinned_resolution(repo, addresses),
        deadline=deadline,
        cancel=cancel,
        use_cgroup=options.cgroups,
    )
    cache = RepoCache(cache_root(options), options.checkouts_dir)
    try:
        await cache.sweep_abandoned()
        dest, held = cache.new_checkout_dir(run_id)
    except OSError as exc:
        raise GitSourceError(f"cannot use the git cache directory {cache.root}: {exc}") from exc
    try:
        try:
            commit = await cache.checkout(git, repo, ref, dest)
        except OSError as exc:  # the cache's files (lock, mirror), not git: git errors are output
            raise GitSourceError(f"git cache error: {exc}") from exc
        log.info(
            "checked out %s at %s in %.2fs",
            repo.display,
            commit,
            time.monotonic() - started,
            extra={"action": "git_checkout", "run_id": run_id, "commit": commit},
        )
        yield Checkout(dest.resolve(), commit)
    finally:
        await cache.release_checkout(dest, held)


async def _checked_addresses(
    repo: RepoUrl, options: GitOptions, deadline: Deadline
) -> tuple[str, ...]:
    try:
        async with asyncio.timeout(deadline.remaining()):
            return await resolve_host(repo, allow_private_hosts=options.allow_private_hosts)
    except TimeoutError:
        raise GitTimeout(f"resolving git host {repo.host!r} took too long") from None


def pinned_resolution(repo: RepoUrl, addresses: tuple[str, ...]) -> list[str]:
    """Make git's https connection use the addresses just checked, so a DNS answer that
    changes between our check and git's lookup (rebinding) cannot send it elsewhere."""
    if repo.kind is not RepoKind.HTTPS or not addresses or repo.host is None:
        return []
    with contextlib.suppress(ValueError):
        ip_address(repo.host)
        return []  # a literal address needs no pinning
    port = repo.port or DEFAULT_PORTS[repo.kind]
    listed = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
    return ["-c", f"http.curloptResolve={repo.host}:{port}:{listed}"]


def source_failure(exc: GitSourceError, run_id: str, seconds: float = 0.0) -> ProcessResult:
    """The result of a run whose job never started because its source could not be prepared."""
    log.warning(
        "run %s: git source not prepared: %s",
        run_id,
        exc.message,
        extra={"action": "git_checkout_failed", "run_id": run_id},
    )
    outcome = Outcome.CANCELLED if isinstance(exc, GitCancelled) else Outcome.SPAWN_FAILED
    usage = ResourceUsage(0.0, 0.0, 0, seconds)
    return ProcessResult(outcome, None, exc.message, usage, 0, False, None)
