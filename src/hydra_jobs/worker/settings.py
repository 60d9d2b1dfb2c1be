"""A worker's configuration, and how it is read from `Settings` (environment and CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra_jobs.config import Settings
from hydra_jobs.worker.executors import DEFAULT_POSIX_SHELL, resolve_shell
from hydra_jobs.worker.git_options import GitOptions


@dataclass
class WorkerConfig:
    domain: str = "default"
    queues: list[str] = field(default_factory=lambda: ["default"])
    concurrency: int = 8
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    heartbeat_interval_seconds: float = 2.0
    lease_seconds: float = 10.0
    log_max_bytes: int = 10 * 1024 * 1024
    kill_grace_seconds: float = 5.0
    drain_grace_seconds: float = 30.0
    control_poll_seconds: float = 2.0
    guard: bool = True  # run the guard process (POSIX only)
    cgroups: bool = True  # a cgroup v2 per run where possible (Linux); else the subreaper
    exit_on_drain: bool = False  # a remote drain ends the process once its runs are done
    all_domains: bool = False  # the embedded worker of `up` runs every domain's jobs
    git: GitOptions = field(default_factory=GitOptions)  # jobs with a `source`
    shell: str = DEFAULT_POSIX_SHELL  # runs shell jobs without a #! line (Windows: cmd.exe)


def worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The worker's configuration; `ConfigError` when a setting cannot work (HYDRA_SHELL)."""
    tags = dict(
        item.strip().split("=", 1) for item in settings.worker_tags.split(",") if "=" in item
    )
    config = WorkerConfig(
        domain=settings.worker_domain,
        queues=[q.strip() for q in settings.queues.split(",") if q.strip()],
        concurrency=settings.concurrency,
        name=settings.worker_name,
        tags=tags,
        heartbeat_interval_seconds=settings.heartbeat_interval_seconds,
        lease_seconds=settings.lease_seconds,
        log_max_bytes=settings.log_max_bytes,
        kill_grace_seconds=settings.kill_grace_seconds,
        drain_grace_seconds=settings.drain_grace_seconds,
        control_poll_seconds=settings.control_poll_seconds,
        guard=settings.worker_guard,
        cgroups=settings.cgroups,
        git=GitOptions(
            cache_dir=settings.git_cache_dir or settings.data_dir / "git-cache",
            allow_file=settings.allow_file_git,
            allow_private_hosts=settings.git_allow_private_hosts,
            timeout_seconds=settings.git_timeout_seconds,
            cgroups=settings.cgroups,
        ),
        shell=resolve_shell(settings.hydra_shell),
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config
