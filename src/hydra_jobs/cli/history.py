"""`hydra-jobs history` and `restore`: a job's saved versions, their diffs, and going back."""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    JobArg,
    TokenOpt,
    UrlOpt,
    call,
    client_for,
    confirm_or_stop,
    err,
    out,
    resolve_job,
)
from hydra_jobs.client import Client

HISTORY_PAGE = 200


def spec_lines(spec: dict[str, Any]) -> list[str]:
    """A spec as the lines its diff is made of (sorted keys, so equal specs read equal)."""
    return json.dumps(spec, indent=2, sort_keys=True).splitlines()


def version_diff(before: dict[str, Any] | None, after: dict[str, Any], version: int) -> list[str]:
    """Unified diff lines from the version before (none for the first) to `after`."""
    old = spec_lines(before) if before is not None else []
    return list(
        difflib.unified_diff(
            old,
            spec_lines(after),
            fromfile=f"version {version - 1}" if before is not None else "(none)",
            tofile=f"version {version}",
            lineterm="",
        )
    )


def history(
    job: JobArg,
    diff: Annotated[
        int | None,
        typer.Option("--diff", help="Show what VERSION changed from the version before.", min=1),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The versions as the API gives them.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """A job's saved versions, newest first: who changed it, when and how (or one diff)."""
    client = client_for(url, token, data_dir)
    job_id = resolve_job(client, job)
    if diff is not None:
        _print_diff(client, job_id, diff)
        return
    page = call(client.job_versions, job_id, HISTORY_PAGE)
    if as_json:
        out.print_json(json.dumps(page["items"]))
        return
    table = Table("version", "change", "by", "at")
    for item in page["items"]:
        change = item["change"]
        if item.get("restored_from"):
            change += f" of {item['restored_from']}"
        table.add_row(str(item["version"]), escape(change), escape(item["actor"]), item["at"])
    out.print(table)
    if page.get("next_cursor"):
        err.print(f"(the {HISTORY_PAGE} newest versions; the API pages through the rest)")


def _print_diff(client: Client, job_id: str, version: int) -> None:
    after = call(client.job_version, job_id, version)
    before = call(client.job_version, job_id, version - 1)["spec"] if version > 1 else None
    lines = version_diff(before, after["spec"], version)
    if not lines:
        out.print(f"version {version} changed nothing in the spec")
    for line in lines:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
        out.print(escape(line), style=style, highlight=False)


def restore(
    job: JobArg,
    version: Annotated[int, typer.Argument(help="The version to make current again.", min=1)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Make an earlier version of a job current again (saved as a new version)."""
    client = client_for(url, token, data_dir)
    job_id = resolve_job(client, job)
    confirm_or_stop(yes, f"restore job {job} to version {version}?", "not restored")
    restored = call(client.restore_job_version, job_id, version)
    out.print(
        f"restored job {escape(restored['name'])} to version {version} "
        f"(now version {restored['version']})"
    )


def register(app: typer.Typer) -> None:
    for command in (history, restore):
        app.command()(command)
