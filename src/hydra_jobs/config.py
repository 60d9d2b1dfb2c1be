"""Settings: the one place that reads the environment (and `.env`), once, at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_ADMIN_TOKEN_CHARS = 32


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hydra-jobs", appauthor=False))


DEV_DATA_DIR = Path(".hydra/data")  # where scripts/dev-up.sh keeps `up`'s data


def stored_admin_token(data_dir: Path | None = None) -> str | None:
    """The admin token `up` generated and stored: in `data_dir`, else the data dir of
    `scripts/dev-up.sh` under the current directory, else the per-user data dir."""
    found = stored_admin_token_file(data_dir)
    if found is None:
        return None
    return found.read_text().strip() or None


def stored_admin_token_file(data_dir: Path | None = None) -> Path | None:
    """Where `stored_admin_token` reads it from, if anywhere."""
    for candidate in (data_dir, DEV_DATA_DIR, default_data_dir()):
        if candidate is not None and (candidate / "admin_token").is_file():
            return candidate / "admin_token"
    return None


class Settings(BaseSettings):
    # An empty variable (`OPENAI_API_KEY=` in .env, `${X:-}` in a Compose file) means unset.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # Names kept from the seed project.
    admin_token: SecretStr | None = Field(default=None, alias="ADMIN_TOKEN")
    api_token: SecretStr | None = Field(default=None, alias="API_TOKEN")
    worker_domain: str = Field(default="default", alias="WORKER_DOMAIN")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    mongo_url: str | None = Field(default=None, alias="MONGO_URL")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    gemini_api_key: SecretStr | None = Field(default=None, alias="GEMINI_API_KEY")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    log_format: Literal["text", "json"] = Field(default="text", alias="HYDRA_LOG_FORMAT")
    host: str = Field(default="127.0.0.1", alias="HYDRA_HOST")
    port: int = Field(default=8000, ge=0, le=65535, alias="HYDRA_PORT")
    data_dir: Path = Field(default_factory=default_data_dir, alias="HYDRA_DATA_DIR")
    concurrency: int = Field(default=8, ge=1, le=1024, alias="HYDRA_CONCURRENCY")
    queues: str = Field(default="default", alias="HYDRA_QUEUES")
    worker_name: str | None = Field(default=None, alias="HYDRA_WORKER_NAME")
    worker_tags: str = Field(default="", alias="HYDRA_WORKER_TAGS")

    log_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, alias="HYDRA_LOG_MAX_BYTES")
    kill_grace_seconds: float = Field(default=5.0, ge=0, alias="HYDRA_KILL_GRACE_SECONDS")
    drain_grace_seconds: float = Field(default=10.0, ge=0, alias="HYDRA_DRAIN_GRACE_SECONDS")
    heartbeat_interval_seconds: float = Field(default=2.0, gt=0, alias="HYDRA_HEARTBEAT_SECONDS")
    lease_seconds: float = Field(default=10.0, gt=0, alias="HYDRA_LEASE_SECONDS")
    leader_lease_seconds: float = Field(default=10.0, gt=0, alias="HYDRA_LEADER_LEASE_SECONDS")
    control_poll_seconds: float = Field(default=2.0, gt=0, alias="HYDRA_CONTROL_POLL_SECONDS")
    redis_prefix: str = Field(
        default="hydra", pattern=r"^[A-Za-z0-9_.-]{1,64}$", alias="HYDRA_REDIS_PREFIX"
    )
    worker_guard: bool = Field(default=True, alias="HYDRA_WORKER_GUARD")
    # A cgroup v2 per run where the worker can create one (Linux); false: the subreaper fallback.
    cgroups: bool = Field(default=True, alias="HYDRA_CGROUPS")
    worker_auth_wait_seconds: float = Field(
        default=30.0, ge=0, alias="HYDRA_WORKER_AUTH_WAIT_SECONDS"
    )
    catchup_window_seconds: float = Field(
        default=24 * 3600, gt=0, alias="HYDRA_CATCHUP_WINDOW_SECONDS"
    )
    catchup_max_runs: int = Field(default=100, ge=1, alias="HYDRA_CATCHUP_MAX_RUNS")
    # Runs one domain may create per minute (a burst up to it, then its rate); 0 means no cap.
    max_runs_per_minute: int = Field(default=6000, ge=0, alias="HYDRA_MAX_RUNS_PER_MINUTE")
    run_retention_days: int | None = Field(default=None, ge=1, alias="HYDRA_RUN_RETENTION_DAYS")
    # Offline workers are shown this long after their last heartbeat, then forgotten.
    worker_retention_hours: float = Field(default=24.0, gt=0, alias="HYDRA_WORKER_RETENTION_HOURS")
    allow_file_git: bool = Field(default=False, alias="HYDRA_GIT_ALLOW_FILE")
    git_allow_private_hosts: bool = Field(default=False, alias="HYDRA_GIT_ALLOW_PRIVATE_HOSTS")
    git_cache_dir: Path | None = Field(default=None, alias="HYDRA_GIT_CACHE_DIR")
    git_timeout_seconds: float = Field(default=300.0, gt=0, alias="HYDRA_GIT_TIMEOUT_SECONDS")
    # What runs shell jobs on a POSIX worker: a program on PATH or a path; None: /bin/sh. Not
    # named `shell`: populate_by_name makes the field's own name an env var too, and SHELL is the
    # login shell of whoever starts the worker.
    hydra_shell: str | None = Field(default=None, alias="HYDRA_SHELL")
    # Landlock confinement of jobs (Linux): auto | required | off (worker/confine.py).
    confine: Literal["auto", "required", "off"] = Field(default="auto", alias="HYDRA_CONFINE")
    # More paths jobs must not reach (os.pathsep-separated), besides the data dir, the git
    # cache, a SQLite database and the worker's .env.
    confine_hide: str = Field(default="", alias="HYDRA_CONFINE_HIDE")
    # The user a root worker runs jobs as (worker/run_as.py): a name or uid; `root` allows root.
    run_as: str | None = Field(default=None, alias="HYDRA_RUN_AS")
    # Where runs get their private directories; default: <data dir>/runs, or with HYDRA_RUN_AS
    # in effect /var/lib/hydra-jobs/runs (a data dir under /root is closed to the jobs' user).
    runs_dir: Path | None = Field(default=None, alias="HYDRA_RUNS_DIR")
    ui_dir: Path | None = Field(default=None, alias="HYDRA_UI_DIR")
    # HTTP serving (scheduler/api/serving.py): a client without a token cannot starve the server.
    header_timeout_seconds: float = Field(default=10.0, gt=0, alias="HYDRA_HEADER_TIMEOUT_SECONDS")
    max_connections: int = Field(default=1000, ge=1, alias="HYDRA_MAX_CONNECTIONS")
    # The live events a replica keeps for clients that resume (scheduler/hub.py).
    event_replay_bytes: int = Field(
        default=32 * 1024 * 1024, ge=64 * 1024, alias="HYDRA_EVENT_REPLAY_BYTES"
    )
    event_replay_seconds: float = Field(default=300.0, gt=0, alias="HYDRA_EVENT_REPLAY_SECONDS")
    domain: str | None = Field(default=None, alias="HYDRA_DOMAIN")  # the CLI's, for the admin

    # Notifications (hydra_jobs.notify). The public URL is where links in messages point.
    public_url: str | None = Field(default=None, alias="HYDRA_PUBLIC_URL")
    notify_max_attempts: int = Field(default=8, ge=1, le=100, alias="HYDRA_NOTIFY_MAX_ATTEMPTS")
    notify_retry_seconds: float = Field(
        default=10.0, gt=0, le=3600, alias="HYDRA_NOTIFY_RETRY_SECONDS"
    )  # the first retry's delay; each next one doubles, up to an hour
    notify_allow_private_hosts: bool = Field(
        default=False, alias="HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS"
    )  # let channels reach loopback and private addresses (a receiver on the same network)
    # Pinged (GET) by the leader every HYDRA_HEARTBEAT_PING_SECONDS (healthchecks.io style).
    heartbeat_url: SecretStr | None = Field(default=None, alias="HYDRA_HEARTBEAT_URL")
    heartbeat_ping_seconds: float = Field(
        default=60.0, ge=1, le=3600, alias="HYDRA_HEARTBEAT_PING_SECONDS"
    )

    # AI providers (scheduler/ai/): a key enables a provider; base URLs reach gateways or local
    # OpenAI-compatible servers (Ollama, vLLM, LM Studio).
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    gemini_base_url: str | None = Field(default=None, alias="HYDRA_GEMINI_BASE_URL")
    openai_model: str = Field(default="gpt-5-mini", min_length=1, alias="HYDRA_OPENAI_MODEL")
    gemini_model: str = Field(default="gemini-2.5-flash", min_length=1, alias="HYDRA_GEMINI_MODEL")
    ai_provider: Literal["gemini", "openai"] | None = Field(
        default=None, alias="HYDRA_AI_PROVIDER"
    )  # the default when both are configured (else Gemini)
    ai_timeout_seconds: float = Field(default=60.0, gt=0, alias="HYDRA_AI_TIMEOUT_SECONDS")
    ai_attempts: int = Field(default=3, ge=1, le=10, alias="HYDRA_AI_ATTEMPTS")
    ai_max_retry_delay_seconds: float = Field(
        default=20.0, ge=0, alias="HYDRA_AI_MAX_RETRY_DELAY_SECONDS"
    )
    ai_requests_per_minute: int = Field(default=30, ge=1, alias="HYDRA_AI_REQUESTS_PER_MINUTE")

    def store_url(self) -> str:
        if self.mongo_url:
            return self.mongo_url
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'hydra.db'}"
