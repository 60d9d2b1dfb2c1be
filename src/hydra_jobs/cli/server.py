"""The server commands: `up` (embedded mode), `scheduler` and `worker` (distributed mode), and
`openapi` (the schema the UI's client is generated from). They hold secrets (`secret_env`).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from hydra_jobs import secret_env
from hydra_jobs.cli.common import (
    TOKEN_FILE,
    DataDirOpt,
    err,
    out,
)
from hydra_jobs.cli.common import fail as _fail
from hydra_jobs.config import MIN_ADMIN_TOKEN_CHARS, Settings
from hydra_jobs.logs import setup_logging
from hydra_jobs.private_files import private_dir, private_file

if TYPE_CHECKING:
    from hydra_jobs.worker.settings import WorkerConfig

CreateDbOpt = Annotated[
    bool,
    typer.Option(
        "--create-db",
        help="Create the PostgreSQL database DATABASE_URL names if it does not exist "
        "(without it, a terminal is asked, anything else told how).",
    ),
]


def _ensure_admin_token(settings: Settings) -> tuple[str, bool]:
    """ADMIN_TOKEN if set; else the token stored in the data dir; else a new one (0600 file)."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value(), False
    path = settings.data_dir / TOKEN_FILE
    if path.is_file():
        private_file(path)  # one written by an older version may be readable by others
        return path.read_text().strip(), False
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token, True


def _require_strong_admin_token(token: str) -> None:
    """One rule for `up` and `scheduler`: the admin token opens every domain, and the API is as
    reachable in embedded mode (HYDRA_HOST=0.0.0.0) as in distributed mode."""
    if len(token) < MIN_ADMIN_TOKEN_CHARS:
        raise _fail(
            f"ADMIN_TOKEN must be set to a secret of at least {MIN_ADMIN_TOKEN_CHARS} characters"
            " (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )


def up(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDirOpt = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs the local worker runs at once.")
    ] = None,
    create_db: CreateDbOpt = False,
) -> None:
    """Embedded mode: API, UI, scheduler and a local worker in one process (SQLite store)."""
    from hydra_jobs.cli.embedded import create_embedded_app

    overrides: dict[str, Any] = {
        "HYDRA_HOST": host,
        "HYDRA_PORT": port,
        "HYDRA_DATA_DIR": data_dir,
        "HYDRA_CONCURRENCY": concurrency,
    }
    settings = _settings(overrides)
    setup_logging(settings.log_level, settings.log_format)
    # The embedded worker's settings (HYDRA_SHELL) fail here, before anything is created or served.
    worker_settings = _worker_config(settings, all_domains=True)
    private_dir(settings.data_dir)  # the database, the admin token, the git cache: 0700
    token, created = _ensure_admin_token(settings)
    _require_strong_admin_token(token)
    settings = settings.model_copy(update={"admin_token": settings.admin_token or _secret(token)})
    url = f"http://{settings.host}:{settings.port}"
    out.print(f"[bold]Hydra Jobs[/bold] on [link={url}]{url}[/link]  (data: {settings.data_dir})")
    if created:
        out.print(f"Admin token (shown once, stored in {settings.data_dir / TOKEN_FILE}):")
        out.print(f"  [bold]{token}[/bold]")
    elif "ADMIN_TOKEN" not in {*secret_env.recovered(), *os.environ}:
        out.print(f"Admin token: in {settings.data_dir / TOKEN_FILE}")
    _preflight(settings, redis=False, create_db=create_db)
    _serve(
        create_embedded_app(settings, worker_settings=worker_settings, settle_heap=True), settings
    )


def scheduler(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    create_db: CreateDbOpt = False,
) -> None:
    """One scheduler replica of distributed mode: API, UI, ticker/reaper/dispatcher when leader.

    Needs REDIS_URL, ADMIN_TOKEN (at least 32 characters) and a store (DATABASE_URL or
    MONGO_URL; default: SQLite in the data dir, fine for a single replica). Start as many as you
    like: they elect a leader through Redis.
    """

    from hydra_jobs.scheduler.api.app import create_app

    overrides: dict[str, Any] = {"HYDRA_HOST": host, "HYDRA_PORT": port}
    settings = _settings(overrides)
    setup_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        raise _fail("REDIS_URL is required (for a single process without Redis: hydra-jobs up)")
    _require_strong_admin_token(
        settings.admin_token.get_secret_value() if settings.admin_token else ""
    )
    _preflight(settings, redis=True, create_db=create_db)
    url = f"http://{settings.host}:{settings.port}"
    err.print(f"[bold]Hydra Jobs scheduler[/bold] on {url} (broker: Redis)")
    _serve(create_app(settings, settle_heap=True), settings)


def _preflight(settings: Settings, *, redis: bool, create_db: bool) -> None:
    """A store or Redis that cannot be used is one line that says what to do (not the
    traceback of the app's start-up). SQLite, made by the server itself, needs no check.
    A PostgreSQL database that does not exist is created with `--create-db`, or after a yes
    on a terminal."""
    from hydra_jobs.cli import preflight
    from hydra_jobs.errors import ConfigError

    url = settings.store_url()
    try:
        if redis and settings.redis_url:
            asyncio.run(preflight.check_redis(settings.redis_url))
        if url.startswith("sqlite"):
            return
        try:
            asyncio.run(preflight.check_store(url))
        except preflight.MissingDatabase as missing:
            if not (create_db or _agree_to_create(missing)):
                raise
            made = asyncio.run(preflight.create_database(url))
            verb = "created" if made else "found (made meanwhile by another process)"
            err.print(f"{verb} the database '{escape(missing.database)}' on {preflight.shown(url)}")
            asyncio.run(preflight.check_store(url))
    except ConfigError as exc:
        raise _fail(exc.message) from None


def _agree_to_create(missing: Exception) -> bool:
    """On a terminal: say what is missing and ask; elsewhere (a service, a pipe): no."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    err.print(escape(str(missing).split("; or start with")[0]))
    return typer.confirm("Create it now?", default=False, err=True)


def worker(
    queues: Annotated[
        str | None, typer.Option(help="Queues to take runs from, comma-separated.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Runs at once.")] = None,
    tags: Annotated[
        str | None,
        typer.Option(
            help="This worker's tags, k=v,k2=v2 (a bare k means k=true): it runs the jobs "
            "whose `requires` they satisfy, and shows them in the fleet view."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name shown in the fleet view.")] = None,
) -> None:
    """A worker of distributed mode: runs jobs from Redis; needs no database.

    Needs REDIS_URL, WORKER_DOMAIN (default: default) and API_TOKEN, a token of that domain
    (`hydra-jobs tokens create --domain D NAME`). It refuses to start when the token is unknown,
    revoked or of another domain, and stops (exit code 3) when its token is revoked. SIGTERM
    drains: no new runs, running ones get HYDRA_DRAIN_GRACE_SECONDS to finish, then are stopped.
    """
    overrides: dict[str, Any] = {
        "HYDRA_QUEUES": queues,
        "HYDRA_CONCURRENCY": concurrency,
        "HYDRA_WORKER_TAGS": tags,
        "HYDRA_WORKER_NAME": name,
    }
    settings = _settings(overrides)
    setup_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        raise _fail("REDIS_URL is required")
    if settings.api_token is None and settings.admin_token is None:
        raise _fail(
            "API_TOKEN is required: a token of WORKER_DOMAIN "
            f"(`hydra-jobs tokens create --domain {settings.worker_domain} NAME` prints one)"
        )
    for name, value in (("MONGO_URL", settings.mongo_url), ("DATABASE_URL", settings.database_url)):
        if value:  # a .env shared with the schedulers holds them; a worker never opens a store
            err.print(
                f"[yellow]note:[/yellow] {name} is set and ignored: workers never connect to the"
                " database (they need only REDIS_URL and API_TOKEN)"
            )
    if settings.api_token is None:
        err.print(
            "[yellow]note:[/yellow] running with ADMIN_TOKEN; give workers a domain token "
            "(API_TOKEN) instead so they never hold the admin token"
        )
    elif settings.admin_token is not None:
        err.print(
            "[yellow]warning:[/yellow] ADMIN_TOKEN is set in this worker's environment too; "
            "unset it (env -u ADMIN_TOKEN ...): a worker needs only its API_TOKEN"
        )
    raise typer.Exit(asyncio.run(_run_worker(settings)))


def _settings(overrides: dict[str, Any]) -> Settings:
    """Settings of a server command: the environment and `.env`, the secrets handed over at the
    re-exec (`secret_env`), and the command line's values (`overrides`, None: not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**{**secret_env.recovered(), **given})


def _worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The worker's configuration; a setting that cannot work ends the command with its reason."""
    from hydra_jobs.errors import ConfigError
    from hydra_jobs.worker.settings import worker_config

    try:
        return worker_config(settings, **overrides)
    except ConfigError as exc:
        raise _fail(exc.message) from None


async def _run_worker(settings: Settings) -> int:
    from hydra_jobs import heap
    from hydra_jobs.broker import open_broker
    from hydra_jobs.broker.signing import KeyRing, SchedulerKeys
    from hydra_jobs.errors import ConfigError
    from hydra_jobs.worker.credentials import WorkerCredentials, worker_keys
    from hydra_jobs.worker.worker import Worker

    config = _worker_config(settings, exit_on_drain=True)
    keys: KeyRing
    if settings.api_token is not None:
        try:
            keys = wkeys = worker_keys(
                settings.api_token.get_secret_value(), settings.worker_domain
            )
        except ConfigError as exc:
            raise _fail(exc.message) from None
    else:
        assert settings.admin_token is not None
        keys = SchedulerKeys(settings.admin_token.get_secret_value())
    broker = open_broker(
        settings.redis_url,
        keys,
        prefix=settings.redis_prefix,
        lease_grace_seconds=settings.lease_seconds,
    )
    await broker.start()
    credentials = None
    try:
        if settings.api_token is not None:
            credentials = WorkerCredentials(broker, wkeys)
            await credentials.establish(settings.worker_auth_wait_seconds)
    except ConfigError as exc:
        await broker.close()
        raise _fail(exc.message) from None
    the_worker = Worker(broker, config, credentials=credentials)
    on_stop_signals(asyncio.get_running_loop(), the_worker.stop)
    err.print(
        f"[bold]Hydra Jobs worker[/bold] {the_worker.id}: domain {settings.worker_domain}, "
        f"queues {','.join(the_worker.config.queues)}, concurrency {the_worker.config.concurrency}",
        soft_wrap=True,
    )
    heap.settle()
    try:
        await the_worker.run()
    finally:
        await broker.close()
    if the_worker.exit_code:
        err.print(f"[red]worker {the_worker.id} stopped: its API_TOKEN was revoked[/red]")
    else:
        err.print(f"worker {the_worker.id} stopped")
    return the_worker.exit_code


def on_stop_signals(
    loop: asyncio.AbstractEventLoop,
    stop: Callable[[], None],
    *,
    use_loop: bool = sys.platform != "win32",
) -> None:
    """SIGTERM and SIGINT (and SIGBREAK, where it exists) call `stop` in `loop`: a worker drains.

    Windows' event loops have no `add_signal_handler`, so there the handlers are plain signal
    handlers that hand `stop` to the loop; a service manager's Ctrl+C (NSSM's stop) drains too.
    """
    if use_loop:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        return

    def handler(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(stop)

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, handler)


def _serve(app: Any, settings: Settings) -> None:
    """Serve `app` on a socket bound first: a taken port fails before anything starts (no
    scheduler or worker runs a job in a process that is about to exit)."""
    import socket

    from hydra_jobs.scheduler.api.serving import serve

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise _fail(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc} "
            "(another process uses the port? choose one with --port or HYDRA_PORT)"
        ) from None
    serve(
        app,
        sock,
        header_timeout=settings.header_timeout_seconds,
        max_connections=settings.max_connections,
    )


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def openapi() -> None:
    """Print the API's OpenAPI schema (the UI generates its typed client from it)."""
    from hydra_jobs.scheduler.api.app import create_app

    schema = create_app(Settings(ADMIN_TOKEN="x" * 32)).openapi()  # nosec: never served
    sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")
