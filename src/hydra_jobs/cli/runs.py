"""`hydra-jobs runs`, `run`, `logs`, `cancel`, `retry`: runs listed, triggered and followed."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    JOB_GIVEN,
    DataDirOpt,
    JobArg,
    RunIdArg,
    TokenOpt,
    UrlOpt,
    err,
    out,
    resolve_job,
)
from hydra_jobs.cli.common import call as _call
from hydra_jobs.cli.common import client_for as _client
from hydra_jobs.cli.common import fail as _fail
from hydra_jobs.client import TERMINAL_STATUSES, ApiError, Client

if TYPE_CHECKING:
    pass


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


def runs(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
    job: Annotated[str | None, typer.Option(help="Job id or name.", callback=JOB_GIVEN)] = None,
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


def run(
    job: JobArg,
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


def logs(
    run_id: RunIdArg,
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


def cancel(
    run_id: RunIdArg,
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


def retry(
    run_id: RunIdArg,
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
