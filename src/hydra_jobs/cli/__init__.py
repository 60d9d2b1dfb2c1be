"""`hydra-jobs`: run the product (`up`) and talk to it (`submit`, `jobs`, `runs`, `logs`, ...)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from hydra_jobs import __version__, secret_env
from hydra_jobs.cli import ai as cli_ai
from hydra_jobs.cli import fleet as cli_fleet
from hydra_jobs.cli import jobs as cli_jobs
from hydra_jobs.cli import transfer as cli_transfer
from hydra_jobs.cli.common import (
    DEFAULT_URL,
    TOKEN_FILE,
    DataDirOpt,
    TokenOpt,
    UrlOpt,
    err,
    out,
    resolve_job,
)
from hydra_jobs.cli.common import call as _call
from hydra_jobs.cli.common import client_for as _client
from hydra_jobs.cli.common import fail as _fail
from hydra_jobs.cli.domains import domains_app, tokens_app
from hydra_jobs.client import TERMINAL_STATUSES, ApiError, Client, format_detail
from hydra_jobs.config import MIN_ADMIN_TOKEN_CHARS, Settings
from hydra_jobs.logs import setup_logging
from hydra_jobs.private_files import private_dir, private_file

if TYPE_CHECKING:
    from hydra_jobs.worker.settings import WorkerConfig

app = typer.Typer(
    help="Hydra Jobs: run shell, Python and batch jobs on a fleet of workers.",
    no_args_is_help=True,
    add_completion=False,
)
CreateDbOpt = Annotated[
    bool,
    typer.Option(
        "--create-db",
        help="Create the PostgreSQL database DATABASE_URL names if it does not exist "
        "(without it, a terminal is asked, anything else told how).",
    ),
]
STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "timed_out": "red",
    "lost": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "queued": "blue",
    "pending": "dim",
    "skipped": "dim",
}


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


@app.command()
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
    from hydra_jobs.scheduler.api.app import create_app

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
    _serve(create_app(settings, worker_settings=worker_settings, settle_heap=True), settings)


@app.command()
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
    _serve(create_app(settings, embedded_worker=False, settle_heap=True), settings)


def _preflight(settings: Settings, *, redis: bool, create_db: bool) -> None:
    """A store or Redis that cannot be used is one line that says what to do (not the
    traceback of the app's start-up). SQLite, made by the server itself, needs no check.
    A PostgreSQL database that does not exist is created with `--create-db`, or after a yes
    on a terminal."""
    from hydra_jobs import preflight
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


@app.command()
def worker(
    queues: Annotated[
        str | None, typer.Option(help="Queues to take runs from, comma-separated.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Runs at once.")] = None,
    tags: Annotated[
        str | None,
        typer.Option(help="Labels for the fleet view, k=v,k2=v2 (queues route runs, not tags)."),
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


def _load_spec(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise _fail(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise _fail(f"{path}: expected a JSON object with the job spec")
    return data


@app.command()
def submit(
    files: Annotated[list[Path], typer.Argument(help="Job spec JSON file(s).")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
    run: Annotated[bool, typer.Option("--run", help="Trigger each job after saving it.")] = False,
) -> None:
    """Create jobs from JSON specs, or replace the job of the same name.

    Every file is checked first: if one is invalid, none is saved.
    """
    client = _client(url, token, data_dir)
    specs = [(path, _load_spec(path)) for path in files]
    for path, spec in specs:
        report = _call(client.validate, spec)
        if not report["valid"]:
            raise _fail(f"{path}: {format_detail(report['errors'])} (nothing was saved)")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as progress:
        task = progress.add_task("submitting", total=len(specs))
        for path, spec in specs:
            progress.update(task, description=f"submitting {path.name}")
            existing = _call(client.find_job, str(spec.get("name", "")))
            if existing:
                job = _call(client.replace_job, existing["id"], spec)
                verb = "updated"
            else:
                job = _call(client.create_job, spec)
                verb = "created"
            out.print(f"{verb} job [bold]{escape(job['name'])}[/bold] {job['id']}")
            if run:
                triggered = _call(client.trigger, job["id"], None, "manual")
                out.print(f"  run {triggered['id']} {triggered['status']}")
            progress.advance(task)


@app.command()
def validate(
    file: Path,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Check a job spec without saving it; show the next fire times."""
    spec = _load_spec(file)
    report = _call(_client(url, token, data_dir).validate, spec)
    if not report["valid"]:
        for error in report["errors"]:
            loc = ".".join(str(p) for p in error["loc"] if p != "body")
            err.print(f"[red]{escape(loc)}[/red]: {escape(error['msg'])}")
        raise typer.Exit(1)
    out.print("[green]valid[/green]")
    zone = ((spec.get("schedule") or {}) if isinstance(spec, dict) else {}).get("timezone")
    for fire in report["next_fires"]:
        out.print(f"  next: {_fire_times(fire, zone)}")


def _fire_times(fire: str, zone: str | None) -> str:
    """A fire time in the job's timezone and in this machine's (as the API gives it: UTC)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    when = datetime.fromisoformat(fire)
    local = when.astimezone()
    shown = [f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (here)"]
    if zone:
        there = when.astimezone(ZoneInfo(zone))
        if there.utcoffset() != local.utcoffset() or zone != local.tzname():
            shown.insert(0, f"{there:%Y-%m-%d %H:%M:%S} {there.tzname()} ({zone}, the job's)")
    return "  =  ".join(shown)


@app.command()
def jobs(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
    search: Annotated[str | None, typer.Option(help="Filter by name.")] = None,
) -> None:
    """List jobs."""
    page = _call(_client(url, token, data_dir).list_jobs, 500, None, search)
    table = Table("id", "name", "executor", "schedule", "next fire", "state")
    table.columns[0].no_wrap = True
    for job in page["items"]:
        sched = job.get("schedule") or {}
        when = sched.get("cron") or (
            f"every {float(sched['interval_seconds']):g}s"
            if sched.get("interval_seconds")
            else sched.get("at") or "-"
        )
        state = "disabled" if not job["enabled"] else "paused" if job["paused"] else "active"
        table.add_row(
            job["id"],
            escape(job["name"]),
            job["executor"]["type"],
            escape(str(when)),
            _to_second(job.get("next_fire_at")),
            state,
        )
    out.print(table)


def _to_second(stamp: str | None) -> str:
    """An API time (ISO 8601) to the second, for a table."""
    if not stamp:
        return "-"
    return stamp[:19] + ("Z" if stamp.endswith(("Z", "+00:00")) else "")


@app.command()
def runs(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
    job: Annotated[str | None, typer.Option(help="Job id or name.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Filter by status (repeatable).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """Run history, newest first."""
    client = _client(url, token, data_dir)
    job_id = resolve_job(client, job) if job else None
    page = _call(client.list_runs, job_id=job_id, status=status, limit=limit)
    table = Table("run", "job", "status", "trigger", "attempt", "exit", "created", "duration")
    table.columns[0].no_wrap = True
    for run in page["items"]:
        style = STATUS_STYLE.get(run["status"], "")
        usage = run.get("resource_usage") or {}
        wall = _duration(usage["wall_seconds"]) if "wall_seconds" in usage else "-"
        table.add_row(
            run["id"],
            escape(run["job_name"]),
            f"[{style}]{run['status']}[/{style}]",
            run["trigger"],
            str(run["attempt"]),
            "-" if run.get("exit_code") is None else str(run["exit_code"]),
            run["created_at"][:19],
            wall,
        )
    out.print(table)
    if page.get("next_cursor"):
        err.print(f"(the newest {limit}; --limit up to 500 shows more)")


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


@app.command()
def run(
    job: Annotated[str, typer.Argument(help="Job id or name.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream the output.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Trigger a job now."""
    params: dict[str, str] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise _fail(f"--param '{item}': use NAME=VALUE")
        params[name] = value
    client = _client(url, token, data_dir)
    triggered = _call(client.trigger, resolve_job(client, job), params, "manual")
    out.print(f"run {triggered['id']} {triggered['status']}")
    if follow:
        raise typer.Exit(_follow(client, triggered["id"]))


@app.command()
def logs(
    run_id: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming until it ends.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Print a run's output (`-f` follows it live and exits with the run's outcome)."""
    client = _client(url, token, data_dir)
    if follow:
        raise typer.Exit(_follow(client, run_id))
    reader = client.read_log(run_id)
    _call(sys.stdout.writelines, reader)  # pages are written as they are read
    sys.stdout.flush()
    if not reader.complete and _call(client.get_run, run_id)["status"] in TERMINAL_STATUSES:
        err.print(f"[yellow]the rest of run {run_id}'s output has not been stored yet[/yellow]")


def _follow(client: Client, run_id: str) -> int:
    """Stream output, reconnecting from the last offset; exit 0 only if the run succeeded."""
    last_id: str | None = None
    for _attempt in range(100):
        try:
            for event, event_id, data in client.follow_logs(run_id, last_id):
                if event == "log":
                    sys.stdout.write(data["data"])
                    sys.stdout.flush()
                    last_id = event_id
                elif event == "end":
                    status = data["status"]
                    style = STATUS_STYLE.get(status, "")
                    err.print(
                        f"[{style}]run {run_id} {status}[/{style}]"
                        + (f" (exit {data['exit_code']})" if data["exit_code"] is not None else "")
                        + (f": {escape(data['error'])}" if data.get("error") else ""),
                        soft_wrap=True,
                    )
                    return 0 if status == "succeeded" else 1
        except ApiError as exc:
            raise _fail(exc.message) from None
        except Exception as exc:
            if not type(exc).__module__.startswith("httpx"):
                raise
            time.sleep(1.0)  # the stream dropped: resume from the last offset
    raise _fail("lost the log stream too many times")


@app.command()
def cancel(
    run_id: str,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Cancel a run (kills its whole process tree)."""
    result = _call(_client(url, token, data_dir).cancel, run_id)
    out.print(
        f"run {result['id']} {result['status']}"
        + (" (cancel requested)" if result["status"] == "running" else "")
    )


@app.command()
def retry(
    run_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream the output.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Start a new attempt of a finished run."""
    client = _client(url, token, data_dir)
    result = _call(client.retry, run_id)
    out.print(f"run {result['id']} (attempt {result['attempt']}) {result['status']}")
    if follow:
        raise typer.Exit(_follow(client, result["id"]))


@app.command()
def openapi() -> None:
    """Print the API's OpenAPI schema (the UI generates its typed client from it)."""
    from hydra_jobs.scheduler.api.app import create_app

    schema = create_app(Settings(ADMIN_TOKEN="x" * 32)).openapi()  # nosec: never served
    sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"hydra-jobs {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Hydra Jobs: run shell, Python and batch jobs on a fleet of workers."""


cli_jobs.register(app)
cli_fleet.register(app)
cli_ai.register(app)
cli_transfer.register(app)
app.add_typer(domains_app, name="domains")
app.add_typer(tokens_app, name="tokens")


SERVER_COMMANDS = {"up", "worker", "scheduler"}  # they hold secrets; `up` and `worker` run jobs


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in SERVER_COMMANDS:
        secret_env.shed_secrets()  # may re-exec this process without them (never returns then)
    app()


if __name__ == "__main__":
    main()
