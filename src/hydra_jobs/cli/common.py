"""What every CLI command shares: consoles, common options, the API client and error exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from hydra_jobs.client import ApiError, Client
from hydra_jobs.config import Settings, stored_admin_token, stored_admin_token_file

# Piped output gets a wide console so ids are never cut; a terminal keeps its own width.
out = Console(width=None if sys.stdout.isatty() else 220)
err = Console(stderr=True)
TOKEN_FILE = "admin_token"

DEFAULT_URL = "http://127.0.0.1:8000"  # where `up` listens by default
UrlOpt = Annotated[str, typer.Option("--url", envvar="HYDRA_URL", help="Scheduler URL.")]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=["HYDRA_TOKEN", "ADMIN_TOKEN", "API_TOKEN"],
        show_envvar=True,
        help="API token (default: the token `up` stored in the data dir).",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="HYDRA_DATA_DIR", help="Where `up` keeps its database and token."
    ),
]


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(1)


TOKEN_VARIABLES = ("HYDRA_TOKEN", "ADMIN_TOKEN", "API_TOKEN")  # in the order --token reads them


def confirm_or_stop(yes: bool, question: str, refused: str) -> None:
    """Ask `question` (default no) unless `--yes` was given; a no says `refused` on stderr and
    exits 1, so a script that forgot `--yes` fails instead of doing nothing silently."""
    if not yes and not typer.confirm(question, default=False):
        err.print(refused)
        raise typer.Exit(1)


def client_for(url: str, token: str | None, data_dir: Path | None = None) -> Client:
    if token is None:
        stored = stored_admin_token_file(data_dir)
        token = stored_admin_token(data_dir)
        source = f"the admin token `up` stored in {stored}"
    else:
        given = (name for name in TOKEN_VARIABLES if os.environ.get(name) == token)
        source = next(given, "--token")
    if not token:
        raise fail(
            "no API token: pass --token, set HYDRA_TOKEN, or run `hydra-jobs up` (or "
            "./scripts/dev-up.sh) first; its token is read from --data-dir / HYDRA_DATA_DIR, "
            "./.hydra/data, or the per-user data dir"
        )
    # HYDRA_DOMAIN: the domain an admin token acts on (a domain token has its own).
    client = Client(url, token, domain=Settings().domain)
    client.token_source = source
    return client


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(...)`; the API's refusal or an unreachable scheduler ends the command with a message."""
    try:
        return reach(fn, *args, **kwargs)
    except ApiError as exc:
        raise fail(refusal(getattr(fn, "__self__", None), exc)) from None


def refusal(client: Any, exc: ApiError) -> str:
    """The API's refusal; a 401 also says which token was refused, and where it came from
    (a shell without HYDRA_TOKEN quietly used the token of a local `up`)."""
    source = client.token_source if isinstance(client, Client) else None
    if exc.status_code != 401 or source is None:
        return exc.message
    return f"{exc.message} (the token came from {source}; --token or HYDRA_TOKEN gives another)"


def reach(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(...)`; an unreachable scheduler ends the command, the API's refusal (ApiError) is
    left to the caller to word."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # OSError, httpx transport errors
        if isinstance(exc, OSError) or type(exc).__module__.startswith("httpx"):
            raise fail(unreachable(getattr(fn, "__self__", None), exc)) from None
        raise


def resolve_job(client: Client, job: str) -> str:
    """The id of the job named `job`, or of the job whose id it is."""
    found = call(client.find_job, job)
    if found:
        return str(found["id"])
    try:
        return str(reach(client.get_job, job)["id"])
    except ApiError as exc:
        if exc.status_code != 404:
            raise fail(exc.message) from None
    raise fail(f"no job named or with id '{job}' (hydra-jobs jobs lists them)")


def unreachable(client: Any, exc: Exception) -> str:
    where = f" at {client.base}" if isinstance(client, Client) else ""
    return (
        f"cannot reach the scheduler{where}: {exc} (is it running? ./scripts/dev-up.sh starts "
        "one; --url or HYDRA_URL points elsewhere)"
    )


def to_second(stamp: str | None) -> str:
    """An API time (ISO 8601) to the second, for a table."""
    if not stamp:
        return "-"
    return stamp[:19] + ("Z" if stamp.endswith(("Z", "+00:00")) else "")
