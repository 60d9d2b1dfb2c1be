"""A worker's configuration, and how it is read from `Settings` (environment and CLI flags)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra_jobs.config import Settings
from hydra_jobs.errors import ConfigError
from hydra_jobs.routing import parse_worker_tags
from hydra_jobs.worker import landlock
from hydra_jobs.worker.confine import ConfineMode
from hydra_jobs.worker.executors import DEFAULT_POSIX_SHELL, resolve_shell
from hydra_jobs.worker.git.options import GitOptions
from hydra_jobs.worker.run_as import RunAs, job_path, job_python, resolve_run_as


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
    confine: ConfineMode = ConfineMode.OFF  # Settings default to auto; bare configs (tests) off
    hidden_paths: list[Path] = field(default_factory=list)  # what confined jobs cannot reach
    runs_dir: Path | None = None  # the runs' private spaces (confined, or run as another user)
    run_as: RunAs | None = None  # the user jobs run as; None: the worker's own
    python: str | None = None  # python jobs' default interpreter; None: this worker's
    path: str | None = None  # the PATH jobs get; None: the worker's own


def worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The worker's configuration; `ConfigError` when a setting cannot work (HYDRA_SHELL)."""
    tags = parse_worker_tags(settings.worker_tags)
    run_as = resolve_run_as(settings.run_as)
    runs_dir = settings.runs_dir or (
        SHARED_RUNS_DIR if run_as is not None else settings.data_dir / "runs"
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
            checkouts_dir=runs_dir / "checkouts" if run_as is not None else None,
            cgroups=settings.cgroups,
        ),
        shell=resolve_shell(settings.hydra_shell),
        confine=_confine_mode(settings.confine),
        hidden_paths=hidden_paths(settings),
        runs_dir=runs_dir,
        run_as=run_as,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    if config.run_as is not None:  # what of this worker the jobs' user can reach
        config.python = config.python or job_python(config.run_as)
        if config.path is None and "PATH" in os.environ:
            config.path = job_path(config.run_as, os.environ["PATH"])
    return config


SHARED_RUNS_DIR = Path("/var/lib/hydra-jobs/runs")  # root-owned, 0711: see run_space.py


def _confine_mode(setting: str) -> ConfineMode:
    mode = ConfineMode(setting)
    if mode is ConfineMode.REQUIRED and landlock.abi_version() == 0:
        raise ConfigError(
            "HYDRA_CONFINE=required, but this system has no Landlock (Linux 5.13 or newer, "
            "with landlock among the enabled LSMs): jobs could not be confined"
        )
    return mode


def hidden_paths(settings: Settings) -> list[Path]:
    """What a confined job must not reach: the data dir (database, admin token, git cache, run
    spaces), the git cache wherever it is, a SQLite database elsewhere, the `.env` the settings
    came from, and the operator's HYDRA_CONFINE_HIDE."""
    paths = [settings.data_dir]
    if Path(".env").exists():  # hiding a missing one would stop jobs creating files in the cwd
        paths.append(Path(".env"))
    if settings.git_cache_dir is not None:
        paths.append(settings.git_cache_dir)
    for url in (settings.database_url, settings.store_url()):
        if url and url.startswith("sqlite") and ":///" in url:
            db = Path(url.split(":///", 1)[1].split("?", 1)[0])
            paths += [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    paths += [Path(p) for p in settings.confine_hide.split(os.pathsep) if p.strip()]
    return [p.absolute() for p in paths]
