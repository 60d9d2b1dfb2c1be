"""`hydra-jobs workers`, `drain` and `audit`: the fleet of the caller's domain and who did what."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    TokenOpt,
    UrlOpt,
    call,
    client_for,
    not_empty,
    out,
)

WORKER_STYLE = {"online": "green", "draining": "yellow", "offline": "dim"}
AUDIT_PAGE = 200  # entries asked for per request


def workers(
    show_all: Annotated[
        bool, typer.Option("--all", "-a", help="Also the workers that went offline.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="As the API returns them.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The workers of your domain: status, running runs of their slots, queues, heartbeat."""
    fleet = call(client_for(url, token, data_dir).workers)
    shown = [w for w in fleet if show_all or w["status"] != "offline"]
    if as_json:
        out.print_json(json.dumps(shown))
        return
    now = datetime.now(UTC)
    table = Table("WORKER", "STATUS", "RUNNING", "QUEUES", "HEARTBEAT", "HOST", "VERSION")
    for worker in sorted(shown, key=lambda w: (w["status"] != "online", w["name"])):
        style = WORKER_STYLE.get(worker["status"], "")
        beat = now - datetime.fromisoformat(worker["last_heartbeat_at"])
        table.add_row(
            escape(worker["id"]),
            f"[{style}]{worker['status']}[/{style}]",
            f"{len(worker['running'])}/{worker['concurrency']}",
            escape(",".join(worker["queues"])),
            f"{_ago(beat.total_seconds())} ago",
            escape(f"{worker['hostname']} ({worker['platform']})"),
            escape(worker["version"]),
        )
    out.print(table)
    hidden = len(fleet) - len(shown)
    if hidden:
        out.print(f"[dim]{hidden} offline worker(s) not shown (--all shows them)[/dim]")
    elif not fleet:
        out.print("no workers in this domain (start one: hydra-jobs worker)")


def drain(
    worker_id: Annotated[
        str,
        typer.Argument(
            help="The worker's id (see hydra-jobs workers).",
            callback=not_empty("a worker's id", "hydra-jobs workers lists them"),
        ),
    ],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Stop a worker taking new runs; its running runs finish (then it can be stopped)."""
    call(client_for(url, token, data_dir).drain_worker, worker_id)
    out.print(f"worker {escape(worker_id)} is draining: no new runs; running ones finish")


def audit(
    limit: Annotated[int, typer.Option(help="Entries to show, newest first.", min=1)] = 50,
    actor: Annotated[
        str | None, typer.Option(help="Only this actor: admin or token:<name>.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. jobs.create_job.")
    ] = None,
    object_type: Annotated[
        str | None, typer.Option("--object-type", help="Only this kind: job, run, token ...")
    ] = None,
    object_id: Annotated[str | None, typer.Option("--object-id", help="Only this id.")] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time on: ISO 8601 (UTC if no zone), or 2h, 3d.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As the API returns them.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Who did what in your domain: every change made through the API, newest first.

    The filters are applied by the server (GET /api/v1/audit), each an exact match.
    """
    client = client_for(url, token, data_dir)
    filters = {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "since": _when(since, "--since"),
        "until": _when(until, "--until"),
    }
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(found) < limit:
        size = min(AUDIT_PAGE, limit - len(found))
        page = call(client.audit, limit=size, cursor=cursor, **filters)
        found += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if as_json:
        out.print_json(json.dumps(found))
        return
    table = Table("AT", "ACTOR", "ACTION", "OBJECT")
    for entry in found:
        target = entry["object_type"] + (f" {entry['object_id']}" if entry.get("object_id") else "")
        when = entry["at"][:19].replace("T", " ")
        table.add_row(when, escape(entry["actor"]), escape(entry["action"]), escape(target))
    out.print(table)


AGO_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _when(value: str | None, flag: str) -> str | None:
    """`--since`/`--until` as ISO 8601 for the API: a time (UTC if it names no zone) or an age
    such as 90m, 2h, 3d."""
    if value is None:
        return None
    text = value.strip()
    if text[:-1].isdigit() and text[-1:] in AGO_UNITS:
        at = datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * AGO_UNITS[text[-1]])
        return at.isoformat()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a time (2026-05-01T12:00) nor an age (90m, 2h, 3d)",
            param_hint=flag,
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{max(0, int(seconds))}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


def register(app: typer.Typer) -> None:
    for command in (workers, drain, audit):
        app.command()(command)
