"""`hydra-jobs export` and `import`: a domain's jobs as one JSON file, kept in git, applied again
idempotently (the plan is always shown first)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    TokenOpt,
    UrlOpt,
    call,
    client_for,
    confirm_or_stop,
    err,
    fail,
    out,
    reach,
)
from hydra_jobs.client import ApiError

EXPORT_VERSION = 1  # the export format this CLI reads (scheduler/services/transfer.py writes it)


def export(
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to FILE (default: stdout).")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The domain's jobs as JSON specs, sorted by name (`hydra-jobs import` applies it again)."""
    doc = call(client_for(url, token, data_dir).export_jobs)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    out_file.write_text(text)
    err.print(f"exported {len(doc['jobs'])} job(s) of domain {escape(doc['domain'])} to {out_file}")


def load_jobs(path: Path) -> list[dict[str, Any]]:
    """The specs of an export file (or of a plain JSON list of specs)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise fail(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if isinstance(data, dict) and data.get("version", EXPORT_VERSION) != EXPORT_VERSION:
        raise fail(
            f"{path}: export version {data.get('version')!r}; this hydra-jobs reads version "
            f"{EXPORT_VERSION} (upgrade it)"
        )
    jobs = data.get("jobs") if isinstance(data, dict) else data
    if not isinstance(jobs, list):
        raise fail(f"{path}: expected an export ({{'jobs': [...]}}) or a list of job specs")
    return jobs


def describe_refusal(path: Path, jobs: list[Any], detail: Any) -> str:
    """One line per field error, naming the file, the job (by name and index) and the field."""
    if not isinstance(detail, list):
        return f"{path}: {detail} (nothing was applied)"
    lines = []
    for item in detail:
        loc = [p for p in item.get("loc", []) if p != "body"]
        msg = str(item.get("msg")).removeprefix("Value error, ")
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "jobs" and isinstance(loc[1], int) and loc[1] < len(jobs):
            spec = jobs[loc[1]]
            name = spec.get("name") if isinstance(spec, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(the spec)"
            where = f"job '{name}' (jobs.{loc[1]}), {field}" if name else f"jobs.{loc[1]}, {field}"
        lines.append(f"{path}: {where}: {msg} (nothing was applied)")
    return "\n".join(lines)


def show_plan(plan: dict[str, Any]) -> int:
    """Print the plan as a diff; the number of changes it makes."""
    for name in plan["create"]:
        out.print(f"[green]+ {escape(name)}[/green]")
    for update in plan["update"]:
        fields = ", ".join(update["changes"])
        out.print(f"[yellow]~ {escape(update['name'])}[/yellow] ({escape(fields)})")
    for name in plan["delete"]:
        out.print(f"[red]- {escape(name)}[/red]")
    changes = len(plan["create"]) + len(plan["update"]) + len(plan["delete"])
    out.print(
        f"domain {escape(plan['domain'])}: {len(plan['create'])} to create, "
        f"{len(plan['update'])} to update, {len(plan['delete'])} to delete, "
        f"{len(plan['unchanged'])} unchanged"
    )
    return changes


def import_(
    file: Annotated[Path, typer.Argument(help="An export file (hydra-jobs export).")],
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete the domain's jobs that are not in FILE.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Make the domain's jobs those of FILE: create, replace by name, and with --prune delete.

    The plan is shown first and confirmed unless --yes; one invalid spec applies nothing.
    """
    client = client_for(url, token, data_dir)
    jobs = load_jobs(file)

    def send(apply: bool) -> dict[str, Any]:
        try:
            plan: dict[str, Any] = reach(client.import_jobs, jobs, prune=prune, dry_run=not apply)
        except ApiError as exc:
            raise fail(describe_refusal(file, jobs, exc.detail)) from None
        return plan

    if show_plan(send(apply=False)) == 0:
        out.print("nothing to change")
        return
    if dry_run:
        return
    confirm_or_stop(yes, "Apply these changes?", "nothing was applied")
    applied = send(apply=True)
    out.print(
        f"[green]applied[/green]: {len(applied['create'])} created, "
        f"{len(applied['update'])} updated, {len(applied['delete'])} deleted"
    )


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command("import")(import_)
