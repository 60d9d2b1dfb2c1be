"""`hydra-jobs submit` and `validate`: job specs from JSON files, all checked before any is kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    TokenOpt,
    UrlOpt,
    err,
    out,
)
from hydra_jobs.cli.common import call as _call
from hydra_jobs.cli.common import client_for as _client
from hydra_jobs.cli.common import fail as _fail
from hydra_jobs.client import format_detail

if TYPE_CHECKING:
    pass


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
                verb = "updated" if job["version"] != existing["version"] else "unchanged"
            else:
                job = _call(client.create_job, spec)
                verb = "created"
            out.print(f"{verb} job [bold]{escape(job['name'])}[/bold] {job['id']}")
            if run:
                triggered = _call(client.trigger, job["id"], None, "manual")
                out.print(f"  run {triggered['id']} {triggered['status']}")
            progress.advance(task)


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
