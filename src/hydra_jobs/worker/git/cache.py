"""The worker's cache of fetched repositories, and per-run checkouts made from it.

One bare mirror per URL (named by a hash of the URL, so no credential appears in a path).
Each run fetches only what its ref needs into the mirror (one branch or tag, the remote's
HEAD, or one commit; a commit already cached is immutable and needs no network at all), then
clones the mirror locally into a fresh directory (hard links, no network) and checks the commit
out there. The job gets its own repository: it can run `git` in its checkout without touching
the shared mirror, and the mirror's URL (and any credential in it) is not in the job's config.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from pathlib import Path

from hydra_jobs.git_errors import GitFetchFailed, GitRefNotFound, GitSourceError
from hydra_jobs.git_inputs import RepoUrl, is_abbreviated_sha, is_full_sha
from hydra_jobs.worker.git.checkout_files import remove_tree
from hydra_jobs.worker.git.command import GitOutput, GitRunner
from hydra_jobs.worker.git.lock import lock_now, repo_lock, unlock_and_close

__all__ = ["RepoCache"]

log = logging.getLogger(__name__)

# Every branch and tag, for the refs a targeted fetch cannot ask for (abbreviated SHAs, commits
# a server will not serve by id). `--prune` keeps deleted branches from resolving from the cache.
ALL_BRANCHES_AND_TAGS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
# How git says "no such ref/commit" (LC_ALL=C), as opposed to "cannot reach the repository".
NOT_FOUND_MARKERS = ("couldn't find remote ref", "not our ref", "no such remote ref")
# File-protocol access for the local clone from our own mirror, even when file:// is refused.
LOCAL_CLONE_CONFIG = ("-c", "protocol.file.allow=always")
RESERVE_ATTEMPTS = 5  # new names tried when a concurrent sweep races the reservation
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class RepoCache:
    def __init__(self, root: Path, checkouts: Path | None = None) -> None:
        self.root = root
        self.mirrors = root / "mirrors"
        self.checkouts = checkouts or root / "checkouts"

    def mirror_for(self, url: str) -> Path:
        return self.mirrors / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.git"

    def new_checkout_dir(self, run_id: str) -> tuple[Path, int]:
        """A fresh, empty directory for one run, and the lock that marks it in use until
        `release_checkout`. Lock first, directory second: a sweep never sees it unlocked."""
        self.checkouts.mkdir(parents=True, exist_ok=True)
        for _ in range(RESERVE_ATTEMPTS):
            name = f"{_UNSAFE_NAME_CHARS.sub('_', run_id)[:40]}-{secrets.token_hex(6)}"
            lock = self.checkouts / f"{name}.lock"
            fd = lock_now(lock)
            if fd is None:
                continue  # a sweep caught the new lock file before we locked it
            if _is_file_at(fd, lock):
                break
            unlock_and_close(fd)  # a sweep unlinked it first: our lock guards nothing
        else:
            raise GitSourceError("could not reserve a checkout directory in the git cache")
        dest = self.checkouts / name
        try:
            dest.mkdir(mode=0o700)
        except OSError:
            unlock_and_close(fd)
            raise
        return dest, fd

    async def release_checkout(self, dest: Path, fd: int) -> None:
        await remove_tree(dest)
        unlock_and_close(fd)  # closed before unlinking: Windows cannot delete an open file
        with contextlib.suppress(OSError):
            dest.with_name(f"{dest.name}.lock").unlink()

    async def sweep_abandoned(self) -> None:
        """Remove checkouts left by a worker that died mid-run (kill -9, power loss): their
        lock is free. Live runs, in this worker or another sharing the cache, hold theirs."""
        if not self.checkouts.is_dir():
            return
        for lock in self.checkouts.glob("*.lock"):
            fd = lock_now(lock)
            if fd is None:
                continue
            dest = lock.with_name(lock.name.removesuffix(".lock"))
            if dest.exists():
                log.info("removing abandoned checkout %s", dest, extra={"action": "git_sweep"})
            await self.release_checkout(dest, fd)

    async def checkout(self, git: GitRunner, repo: RepoUrl, ref: str | None, dest: Path) -> str:
        """Make `dest` a checkout of `ref` (None: the remote's HEAD); return the commit SHA."""
        self.mirrors.mkdir(parents=True, exist_ok=True)
        mirror = self.mirror_for(repo.url)
        async with repo_lock(mirror.with_suffix(".lock"), git.deadline, git.cancel):
            await _ensure_mirror(git, mirror)
            commit = await _Resolver(git, mirror, repo).commit(ref)
            # Still under the lock: another run's fetch (and its auto-gc) must not rewrite the
            # mirror's packs while they are being linked into this checkout.
            _check(
                await git.run(
                    ["clone", "--quiet", "--no-checkout", "--local", "--", str(mirror), str(dest)],
                    extra=LOCAL_CLONE_CONFIG,
                ),
                "could not copy the cached repository",
            )
        _check(
            await git.run(["remote", "remove", "origin"], cwd=dest), "could not prepare checkout"
        )
        _check(
            await git.run(["checkout", "--quiet", "--detach", commit], cwd=dest),
            f"could not check out {commit}",
        )
        return commit


def _is_file_at(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _check(out: GitOutput, what: str) -> None:
    if not out.ok:
        raise GitSourceError(f"{what}: {out.summary()}")


async def _ensure_mirror(git: GitRunner, mirror: Path) -> None:
    if (mirror / "HEAD").is_file():
        _clear_stale_locks(mirror)
        return
    if mirror.exists():  # left half-made by a run that died mid-init
        await remove_tree(mirror)
    out = await git.run(["init", "--quiet", "--bare", "--template=", str(mirror)])
    _check(out, "could not create the repository cache")


def _clear_stale_locks(mirror: Path) -> None:
    """Remove git lock files a killed fetch left behind. Safe: we hold the repository lock,
    so no git process is working in this mirror."""
    for stale in [*mirror.glob("*.lock"), *(mirror / "refs").rglob("*.lock")]:
        log.warning("removing stale git lock %s", stale, extra={"action": "git_cache"})
        stale.unlink(missing_ok=True)


class _Resolver:
    """Fetches what one ref needs into the mirror and resolves it to a commit SHA."""

    def __init__(self, git: GitRunner, mirror: Path, repo: RepoUrl) -> None:
        self.git = git
        self.mirror = mirror
        self.repo = repo

    async def commit(self, ref: str | None) -> str:
        if ref is None:
            return await self._fetch_named("HEAD", "refs/hydra/head", "its default branch (HEAD)")
        if is_full_sha(ref):
            return await self._fetch_commit(ref)
        key = hashlib.sha256(ref.encode()).hexdigest()[:24]  # no clash between `a` and `a/b`
        try:
            return await self._fetch_named(ref, f"refs/hydra/named/{key}", f"ref {ref!r}")
        except GitRefNotFound:
            if not is_abbreviated_sha(ref):
                raise
        await self._fetch_all()
        found = await self._rev_parse(f"{ref}^{{commit}}")
        if found is None:
            raise GitRefNotFound(f"ref {ref!r} was not found in {self.repo.display}")
        return found

    async def _fetch(self, refspecs: list[str], *, prune: bool = False) -> GitOutput:
        args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
        args += ["--prune"] if prune else []
        # `--` ends options: nothing after it can become one, whatever it looks like.
        return await self.git.run([*args, "--", self.repo.url, *refspecs], cwd=self.mirror)

    async def _fetch_named(self, ref: str, local: str, label: str) -> str:
        out = await self._fetch([f"+{ref}:{local}"])
        if not out.ok:
            raise self._fetch_error(out, label)
        commit = await self._rev_parse(f"{local}^{{commit}}")
        if commit is None:
            raise GitRefNotFound(f"{label} in {self.repo.display} does not point to a commit")
        return commit

    async def _fetch_commit(self, sha: str) -> str:
        if await self._rev_parse(f"{sha}^{{commit}}") == sha:
            return sha  # a commit never changes: the cached copy is the commit
        out = await self._fetch([sha])
        if not out.ok:
            if not _not_found(out):
                raise self._fetch_error(out, f"commit {sha}")
            await self._fetch_all()  # servers that only serve advertised refs
        if await self._rev_parse(f"{sha}^{{commit}}") != sha:
            raise GitRefNotFound(f"commit {sha} was not found in {self.repo.display}")
        return sha

    async def _fetch_all(self) -> None:
        out = await self._fetch(list(ALL_BRANCHES_AND_TAGS), prune=True)
        if not out.ok:
            raise self._fetch_error(out, "its branches and tags")

    async def _rev_parse(self, expr: str) -> str | None:
        out = await self.git.run(["rev-parse", "--verify", "--quiet", expr], cwd=self.mirror)
        lines = out.output.split()
        return lines[-1] if out.ok and lines and is_full_sha(lines[-1]) else None

    def _fetch_error(self, out: GitOutput, label: str) -> GitSourceError:
        if _not_found(out):
            return GitRefNotFound(f"{label} was not found in {self.repo.display}")
        return GitFetchFailed(f"could not fetch {self.repo.display}: {out.summary()}")


def _not_found(out: GitOutput) -> bool:
    text = out.output.lower()
    return any(marker in text for marker in NOT_FOUND_MARKERS)
