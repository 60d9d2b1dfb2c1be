"""`hydra-jobs`: run the product (`up`) and talk to it (`submit`, `jobs`, `runs`, `logs`, ...).

The server commands are in `server.py`; every other command is a client of the API (`client.py`):
`submit.py`, `jobs.py`, `runs.py`, `fleet.py`, `domains.py`, `transfer.py`, `ai.py`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hydra_jobs import __version__, secret_env
from hydra_jobs.cli import ai as cli_ai
from hydra_jobs.cli import fleet as cli_fleet
from hydra_jobs.cli import jobs as cli_jobs
from hydra_jobs.cli import notify as cli_notify
from hydra_jobs.cli import runs as cli_runs
from hydra_jobs.cli import server as cli_server
from hydra_jobs.cli import submit as cli_submit
from hydra_jobs.cli import transfer as cli_transfer
from hydra_jobs.cli.common import out
from hydra_jobs.cli.domains import domains_app, tokens_app

app = typer.Typer(
    help="Hydra Jobs: run shell, Python and batch jobs on a fleet of workers.",
    no_args_is_help=True,
    add_completion=False,
)


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


for command in (
    cli_server.up,
    cli_server.scheduler,
    cli_server.worker,
    cli_submit.submit,
    cli_submit.validate,
    cli_jobs.jobs,
    cli_runs.runs,
    cli_runs.run,
    cli_runs.logs,
    cli_runs.cancel,
    cli_runs.retry,
    cli_server.openapi,
    cli_jobs.show,
    cli_jobs.pause,
    cli_jobs.resume,
    cli_jobs.delete,
):
    app.command()(command)
cli_fleet.register(app)
cli_ai.register(app)
cli_transfer.register(app)
cli_notify.register(app)
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
