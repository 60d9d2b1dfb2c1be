"""What the operator decides about git sources: where the cache lives and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_GIT_TIMEOUT_SECONDS", "GitOptions"]

DEFAULT_GIT_TIMEOUT_SECONDS = 300.0  # budget for preparing one run's checkout, lock wait included


@dataclass(frozen=True, slots=True)
class GitOptions:
    # Where bare mirrors and per-run checkouts live; None: `<data dir>/git-cache`.
    cache_dir: Path | None = None
    # Where per-run checkouts live; None: `<cache_dir>/checkouts`. Jobs running as another user
    # (HYDRA_RUN_AS) get theirs beside their run spaces, which that user can reach.
    checkouts_dir: Path | None = None
    # file:// URLs and local paths read the worker's own disk: off unless the operator says so.
    allow_file: bool = False
    # Loopback, link-local and metadata hosts are refused (SSRF) unless the operator says so.
    allow_private_hosts: bool = False
    timeout_seconds: float = DEFAULT_GIT_TIMEOUT_SECONDS
    cgroups: bool = True  # git runs in a cgroup of its own too, unless HYDRA_CGROUPS=false
