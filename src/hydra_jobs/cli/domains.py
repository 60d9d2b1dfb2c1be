"""`hydra-jobs domains ...` (admin token) and `hydra-jobs tokens ...` (admin or domain owner)."""

from __future__ import annotations

from typing import Annotated

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
    err,
    not_empty,
    out,
)
from hydra_jobs.client import ApiError, format_detail
from hydra_jobs.tenancy import ROLE_HELP, Role

domains_app = typer.Typer(help="Domains (tenants): create, list, delete. Needs the admin token.")
tokens_app = typer.Typer(
    help="API tokens of a domain: create, list, change role, revoke. Needs the admin token "
    "or an owner token of the domain."
)

DomainOpt = Annotated[str, typer.Option("--domain", "-d", help="The domain the token belongs to.")]
TokenIdArg = Annotated[
    str,
    typer.Argument(
        help="The token's id (see `tokens list`).",
        callback=not_empty("a token's id", "hydra-jobs tokens list lists them"),
    ),
]
RoleOpt = Annotated[
    Role,
    typer.Option("--role", "-r", help=f"What the token may do (default: operator). {ROLE_HELP}."),
]


@domains_app.command("create")
def create_domain(
    name: Annotated[str, typer.Argument(help="Lowercase letters, digits, '-' and '_'.")],
    description: Annotated[str | None, typer.Option(help="What the domain is for.")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a domain."""
    created = call(client_for(url, token, data_dir).create_domain, name, description)
    out.print(f"created domain [bold]{escape(created['name'])}[/bold]")


@domains_app.command("list")
def list_domains(
    url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, data_dir: DataDirOpt = None
) -> None:
    """List domains with their job and token counts."""
    table = Table("name", "jobs", "tokens", "created", "description")
    for domain in call(client_for(url, token, data_dir).list_domains):
        table.add_row(
            escape(domain["name"]),
            str(domain["jobs"]),
            str(domain["tokens"]),
            domain["created_at"],
            escape(domain.get("description") or ""),
        )
    out.print(table)


@domains_app.command("delete")
def delete_domain(
    name: Annotated[
        str,
        typer.Argument(
            help="The domain.",
            callback=not_empty("a domain's name", "hydra-jobs domains list lists them"),
        ),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Also delete its jobs, runs and logs.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete a domain; its tokens are revoked at once. One with jobs needs --force."""
    client = client_for(url, token, data_dir)

    def delete() -> None:
        try:
            client.delete_domain(name, force=force)
        except ApiError as exc:  # the API's advice, in the CLI's words
            detail = format_detail(exc.detail).replace("pass force=true", "rerun with --force")
            raise ApiError(exc.status_code, detail) from None

    call(delete)
    out.print(f"deleted domain [bold]{escape(name)}[/bold]")


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Who holds it, e.g. 'ci' or 'worker-eu-1'.")],
    domain: DomainOpt = "default",
    role: RoleOpt = Role.operator,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a token and print it once (stdout: only the token, for scripts)."""
    created = call(client_for(url, token, data_dir).create_token, domain, name, role.value)
    err.print(
        f"{role.value} token [bold]{escape(name)}[/bold] ({created['id']}) of domain "
        f"[bold]{escape(domain)}[/bold]; it is shown only now: store it in a secret store",
        soft_wrap=True,
    )
    typer.echo(created["token"])


@tokens_app.command("list")
def list_tokens(
    domain: DomainOpt = "default",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List a domain's tokens (never their secrets)."""
    table = Table("id", "name", "role", "created", "last used", "revoked")
    table.columns[0].no_wrap = True
    for item in call(client_for(url, token, data_dir).list_tokens, domain):
        table.add_row(
            item["id"],
            escape(item["name"]),
            item["role"],
            item["created_at"],
            item.get("last_used_at") or "-",
            item.get("revoked_at") or "-",
        )
    out.print(table)


@tokens_app.command("role")
def set_role(
    token_id: TokenIdArg,
    role: Annotated[Role, typer.Argument(help=ROLE_HELP)],
    domain: DomainOpt = "default",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Give a token another role (from its next call; recorded in the audit log)."""
    changed = call(client_for(url, token, data_dir).set_token_role, domain, token_id, role.value)
    out.print(f"token [bold]{escape(changed['name'])}[/bold] is now {changed['role']}")


@tokens_app.command("revoke")
def revoke_token(
    token_id: TokenIdArg,
    domain: DomainOpt = "default",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a token: API calls with it fail at once; its workers stop."""
    revoked = call(client_for(url, token, data_dir).revoke_token, domain, token_id)
    out.print(f"revoked token [bold]{escape(revoked['name'])}[/bold] ({revoked['id']})")
