"""What every CLI command shares: consoles, common options, the API client and error exits."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from hydra_jobs.client import ApiError, Client
from hydra_jobs.config import (
    DEV_DATA_DIR,
    Settings,
    stored_admin_token,
    stored_admin_token_file,
)

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


def not_empty(what: str, hint: str) -> Callable[[str | None], str | None]:
    """The check of an argument that names something (a run, a job, a worker, ...): an empty or
    blank one reached the API as a path without its name (`hydra-jobs show ""`: "no such API
    route: /api/v1/runs/"), so it is refused before any call, as a usage error (exit 2)."""

    def check(value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise typer.BadParameter(f"it is empty: give {what} ({hint})")
        return value

    return check


RunIdArg = Annotated[
    str,
    typer.Argument(
        help="The run's id (hydra-jobs runs lists them).",
        callback=not_empty("a run's id", "hydra-jobs runs lists them"),
    ),
]
JOB_GIVEN = not_empty("a job's name or id", "hydra-jobs jobs lists them")
JobArg = Annotated[str, typer.Argument(help="Job id or name.", callback=JOB_GIVEN)]


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
        data_dir = data_dir or dev_data_dir()
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
            ".hydra/data here or in a directory above (up to the repository's root), or the "
            "per-user data dir"
        )
    # HYDRA_DOMAIN: the domain an admin token acts on (a domain token has its own).
    client = Client(url, token, domain=Settings().domain)
    client.token_source = source
    return client


def dev_data_dir(start: Path | None = None) -> Path | None:
    """The data dir `./scripts/dev-up.sh` keeps (`.hydra/data`) in `start` (the current
    directory) or the nearest directory above it that has one, as git finds `.git`: a command
    run from `ui/` finds the repository's token. The walk stops at the repository's root (a
    `.git`) and at the home directory: a token of whatever lies above them is never sent."""
    here = (start or Path.cwd()).absolute()
    home = Path(os.path.expanduser("~"))
    for directory in (here, *here.parents):
        if (directory / DEV_DATA_DIR).is_dir():
            found = directory / DEV_DATA_DIR
            return found if _ours(found) else None
        if (directory / ".git").exists() or directory == home:
            return None
    return None


def _ours(data_dir: Path) -> bool:
    """Whether `data_dir` (found above the current directory) is the caller's own and closed to
    others, as dev-up.sh makes it: a token planted by another user in a shared directory above
    (/tmp, /srv) would send the caller's jobs and their secrets to that user's domain."""
    if not hasattr(os, "geteuid"):
        return True  # Windows: no owners to compare; the walk still stops at .git and home
    for path in (data_dir.parent, data_dir):
        info = path.stat()
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return False
    return True


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
