"""`hydra-jobs jobs`, `show`, `pause`, `resume`, `delete`: the job list, one run in full, a job's
life cycle."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    JobArg,
    RunIdArg,
    TokenOpt,
    UrlOpt,
    call,
    client_for,
    confirm_or_stop,
    out,
    resolve_job,
    to_second,
)
from hydra_jobs.client import Client


def show(
    run_id: RunIdArg,
    as_json: Annotated[bool, typer.Option("--json", help="The run as the API returns it.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """One run in full: status, error, times, worker, resource usage."""
    run = call(client_for(url, token, data_dir).get_run, run_id)
    if as_json:
        out.print_json(json.dumps(run))
        return
    table = Table(show_header=False, box=None)
    for label, value in _run_fields(run):
        table.add_row(f"[bold]{label}[/bold]", escape(value))
    out.print(table)


def _run_fields(run: dict[str, Any]) -> list[tuple[str, str]]:
    usage = run.get("resource_usage") or {}
    fields = [
        ("run", run["id"]),
        ("job", f"{run['job_name']} ({run['job_id']})"),
        ("job version", "" if run.get("job_version") is None else str(run["job_version"])),
        ("waiting", run.get("waiting_reason") or ""),
        ("status", run["status"]),
        ("error", run.get("error") or ""),
        ("exit code", "" if run.get("exit_code") is None else str(run["exit_code"])),
        ("trigger", run["trigger"]),
        (
            "attempt",
            str(run["attempt"]) + (f" (retry of {run['retry_of']})" if run.get("retry_of") else ""),
        ),
        ("scheduled for", run.get("scheduled_for") or ""),
        ("created", run["created_at"]),
        ("started", run.get("started_at") or ""),
        ("finished", run.get("finished_at") or ""),
        ("worker", run.get("worker_id") or ""),
        ("source commit", run.get("source_commit") or ""),
        ("params", ", ".join(f"{k}={v}" for k, v in (run.get("params") or {}).items())),
        (
            "output",
            f"{run.get('log_size', 0)} bytes"
            + (" (truncated)" if run.get("log_truncated") else ""),
        ),
    ]
    if "wall_seconds" in usage:
        fields.append(
            (
                "usage",
                f"wall {usage['wall_seconds']:.3f}s, cpu {usage['cpu_user_seconds']:.3f}s user "
                f"+ {usage['cpu_system_seconds']:.3f}s system",
            )
        )
    if usage.get("processes_killed"):
        fields.append(("killed at end", f"{int(usage['processes_killed'])} process(es)"))
    return [(label, value) for label, value in fields if value]


def pause(
    job: JobArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Stop a job's schedule from firing (manual and API runs still work)."""
    _set_paused(client_for(url, token, data_dir), job, paused=True)


def resume(
    job: JobArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Let a paused job's schedule fire again (missed slots are not caught up)."""
    _set_paused(client_for(url, token, data_dir), job, paused=False)


def _set_paused(client: Client, job: str, *, paused: bool) -> None:
    change = client.pause if paused else client.resume
    changed = call(change, resolve_job(client, job))
    out.print(f"{'paused' if paused else 'resumed'} job {escape(changed['name'])}")


def delete(
    job: JobArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete a job (its past runs stay in the history)."""
    client = client_for(url, token, data_dir)
    job_id = resolve_job(client, job)
    confirm_or_stop(yes, f"delete job {job} ({job_id})?", "not deleted")
    call(client.delete_job, job_id)
    out.print(f"deleted job {escape(job)}")


def jobs(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
    search: Annotated[str | None, typer.Option(help="Filter by name.")] = None,
) -> None:
    """List jobs."""
    page = call(client_for(url, token, data_dir).list_jobs, 500, None, search)
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
            to_second(job.get("next_fire_at")),
            state,
        )
    out.print(table)
