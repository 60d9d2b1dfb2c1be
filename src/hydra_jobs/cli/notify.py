"""`hydra-jobs channels ...` and `snooze`: notification channels of the caller's domain, their
delivery logs, test sends, and muting a job's alerts for a while."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
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
    fail,
    not_empty,
    out,
    resolve_job,
)

channels_app = typer.Typer(
    help="Notification channels: webhook, Slack, email.", no_args_is_help=True
)
STATUS_STYLE = {
    "sent": "green",
    "pending": "yellow",
    "failed": "red",
    "muted": "dim",
    "suppressed": "dim",
}
JsonOpt = Annotated[bool, typer.Option("--json", help="As the API returns it.")]
ChannelArg = Annotated[
    str,
    typer.Argument(
        help="The channel.",
        callback=not_empty("a channel's name", "hydra-jobs channels list lists them"),
    ),
]


def _secret(value: str | None, what: str) -> str | None:
    """`-` reads the value from stdin, so it stays out of the process list and shell history."""
    if value != "-":
        return value
    read = sys.stdin.readline().rstrip("\r\n")
    if not read:
        raise fail(f"no {what} on stdin")
    return read


@channels_app.command("list")
def list_channels(
    as_json: JsonOpt = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The domain's channels (their secrets are never shown)."""
    found = call(client_for(url, token, data_dir).list_channels)
    if as_json:
        out.print_json(json.dumps(found))
        return
    if not found:
        out.print("no channels yet (hydra-jobs channels add NAME --type webhook --webhook-url URL)")
        return
    table = Table("NAME", "TYPE", "TARGET", "SECRET", "CREATED")
    for channel in found:
        table.add_row(
            escape(channel["name"]),
            channel["type"],
            escape(channel["target"]),
            "set" if channel["has_secret"] else "-",
            channel["created_at"][:19].replace("T", " "),
        )
    out.print(table)


@channels_app.command("add")
def add_channel(
    name: Annotated[str, typer.Argument(help="The channel's name (rules refer to it).")],
    kind: Annotated[str, typer.Option("--type", help="webhook, slack or email.")],
    target_url: Annotated[
        str | None,
        typer.Option("--webhook-url", help="webhook/slack: where to POST (`-`: from stdin)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="webhook: the signing secret, 16+ characters (`-`: from stdin)."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="email: the SMTP server.")] = None,
    port: Annotated[int, typer.Option(help="email: the SMTP port.")] = 587,
    security: Annotated[str, typer.Option(help="email: starttls, tls or none.")] = "starttls",
    username: Annotated[str | None, typer.Option(help="email: SMTP user.")] = None,
    password: Annotated[
        str | None, typer.Option(help="email: SMTP password (`-`: from stdin).")
    ] = None,
    sender: Annotated[str | None, typer.Option(help="email: the From address.")] = None,
    to: Annotated[list[str] | None, typer.Option(help="email: a recipient (repeat it).")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a channel. Secrets given here are write-only: nothing shows them again."""
    body: dict[str, Any] = {"name": name, "type": kind}
    if kind in ("webhook", "slack"):
        if target_url is None:
            raise fail(f"a {kind} channel needs --webhook-url")
        body["url"] = _secret(target_url, "URL")
        if kind == "webhook" and secret is not None:
            body["secret"] = _secret(secret, "secret")
    elif kind == "email":
        if host is None or sender is None or not to:
            raise fail("an email channel needs --host, --sender and at least one --to")
        body.update(host=host, port=port, security=security, sender=sender, to=to)
        if username is not None:
            body.update(username=username, password=_secret(password, "password"))
    else:
        raise fail(f"unknown channel type '{kind}': webhook, slack or email")
    created = call(client_for(url, token, data_dir).create_channel, body)
    out.print(
        f"channel {escape(created['name'])} ({created['type']}) → {escape(created['target'])}"
    )


@channels_app.command("test")
def test_channel(
    name: ChannelArg,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the outcome.")] = 20.0,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Send a test notification and wait for its outcome (exit 1 if it failed)."""
    client = client_for(url, token, data_dir)
    sent = call(client.test_channel, name)
    deadline = datetime.now(UTC) + timedelta(seconds=wait)
    delivery = sent
    while delivery["status"] == "pending" and datetime.now(UTC) < deadline:
        time.sleep(0.3)
        found = call(client.deliveries, channel=name, limit=20)
        delivery = next((d for d in found if d["id"] == sent["id"]), delivery)
    _print_delivery(delivery)
    if delivery["status"] == "failed":
        raise typer.Exit(1)


def _print_delivery(d: dict[str, Any]) -> None:
    style = STATUS_STYLE.get(d["status"], "")
    code = f" HTTP/SMTP {d['response_code']}" if d.get("response_code") else ""
    error = f": {escape(d['error'])}" if d.get("error") else ""
    out.print(
        f"[{style}]{d['status']}[/{style}] after {d['attempts']} attempt(s){code}{error}",
        soft_wrap=True,
    )


@channels_app.command("deliveries")
def deliveries(
    name: ChannelArg,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Entries, newest first.")] = 50,
    as_json: JsonOpt = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The channel's delivery log: event, job, status, response code, attempts."""
    found = call(client_for(url, token, data_dir).deliveries, channel=name, limit=limit)
    if as_json:
        out.print_json(json.dumps(found))
        return
    table = Table("AT", "EVENT", "JOB", "RUN", "STATUS", "CODE", "ATTEMPTS", "ERROR / NOTE")
    for d in found:
        style = STATUS_STYLE.get(d["status"], "")
        table.add_row(
            d["created_at"][:19].replace("T", " "),
            d["event"],
            escape(d.get("job_name") or "-"),
            escape(d.get("run_id") or "-"),
            f"[{style}]{d['status']}[/{style}]",
            str(d.get("response_code") or "-"),
            str(d["attempts"]),
            escape(d.get("error") or d.get("note") or ""),
        )
    out.print(table)


@channels_app.command("delete")
def delete_channel(
    name: ChannelArg,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete a channel; its pending deliveries fail, its log stays."""
    call(client_for(url, token, data_dir).delete_channel, name)
    out.print(f"channel {escape(name)} deleted")


def snooze(
    job: JobArg,
    until: Annotated[
        str | None,
        typer.Option(help="An ISO time (2026-06-01T08:00:00Z) or a duration: 30m, 2h, 1d."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (shown with the mute).")] = None,
    off: Annotated[bool, typer.Option("--off", help="End the snooze now.")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Mute a job's alerts until a time (recorded as muted, not sent), or end that with --off."""
    client = client_for(url, token, data_dir)
    job_id = resolve_job(client, job)
    if off:
        call(client.unsnooze, job_id)
        out.print(f"{escape(job)}: alerts on again")
        return
    if until is None:
        raise fail("give --until (a time or a duration such as 2h), or --off")
    when = parse_until(until, datetime.now(UTC))
    done = call(client.snooze, job_id, when.isoformat(), reason)
    out.print(f"{escape(job)}: alerts muted until {done['until']}")


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_until(text: str, now: datetime) -> datetime:
    if text[:-1].isdigit() and text[-1:] in UNITS:
        return now + timedelta(seconds=int(text[:-1]) * UNITS[text[-1]])
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--until {text!r}: give an ISO time or a duration (30m, 2h, 1d)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
    app.command()(snooze)
