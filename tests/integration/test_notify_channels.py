"""Slack and email channels against real local servers: the Slack message's format and what it
must never contain, and mail through a real SMTP server (aiosmtpd) over STARTTLS and TLS with
AUTH, with the right subject and link."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.conftest import Server, free_port, wait_for
from tests.integration.test_notify import FAST, _run, _settled
from tests.receivers import HttpReceiver, self_signed

USER, PASSWORD = "hydra", "smtp-password-123"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def srv(make_server: Callable[..., Server]) -> Server:
    return make_server(**FAST)


def test_slack_message_links_the_run_and_holds_no_secret(
    srv: Server, receiver: HttpReceiver
) -> None:
    slack_url = receiver.url + "/services/T000/B000/slack-token-part"
    srv.client.create_channel({"name": "team", "type": "slack", "url": slack_url})
    job = srv.job(
        "reporter",
        "echo $API_KEY; exit 2",
        env={"API_KEY": "env-secret-value-42"},
        params={"token": {"default": "param-secret-value-7"}},
        notify=[{"channel": "team", "on": ["failed"]}],
    )
    run = _run(srv, job)
    [delivery] = _settled(srv, 1, run_id=run["id"])
    assert delivery["status"] == "sent"
    [got] = receiver.requests
    assert got.path.endswith("/slack-token-part")
    body = got.json()
    assert set(body) == {"text", "blocks"}
    link = f"<https://hydra.example.org/runs/{run['id']}|Open in Hydra Jobs>"
    assert link in body["text"]
    section = body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn" and "*:rotating_light: reporter failed*" in section["text"]
    assert "Exit code: 2" in section["text"]
    raw = got.body.decode()
    for secret in ("env-secret-value-42", "param-secret-value-7", "slack-token-part"):
        assert secret not in raw
    shown = str(srv.client.list_channels()) + str(delivery)
    assert "slack-token-part" not in shown


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content))
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def _smtp(certificate: tuple[Path, Path], *, implicit: bool) -> tuple[Controller, Mailbox]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    options: dict[str, Any] = {
        "authenticator": _authenticate,
        # aiosmtpd offers AUTH only after STARTTLS unless told; on implicit TLS the whole
        # session is encrypted already.
        "auth_require_tls": not implicit,
    }
    if implicit:
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=free_port(),
            ssl_context=context,
            **options,
        )
    else:
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=free_port(),
            tls_context=context,
            require_starttls=True,
            **options,
        )
    controller.start()
    return controller, mailbox


def _email_channel(
    name: str, port: int, security: str, ca: str, password: str = PASSWORD
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": USER,
        "password": password,
        "sender": "hydra@example.org",
        "to": ["ops@example.org", "oncall@example.org"],
        "ca_pem": ca,
    }


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_smtp_with_tls_and_auth(
    srv: Server, certificate: tuple[Path, Path], security: str
) -> None:
    controller, mailbox = _smtp(certificate, implicit=security == "tls")
    try:
        ca = certificate[0].read_text()
        srv.client.create_channel(_email_channel("mail", controller.port, security, ca))
        job = srv.job("mailer", "exit 1", notify=[{"channel": "mail", "on": ["failed"]}])
        run = _run(srv, job)
        [delivery] = _settled(srv, 1, run_id=run["id"])
        assert delivery["status"] == "sent" and delivery["channel_type"] == "email"
        [message] = mailbox.messages
        assert message["Subject"] == "[Hydra Jobs] mailer failed"
        assert message["X-Hydra-Delivery"] == delivery["dedup_key"]
        text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert f"https://hydra.example.org/runs/{run['id']}" in text
        assert mailbox.envelopes == [
            ("hydra@example.org", ["ops@example.org", "oncall@example.org"])
        ]
        assert PASSWORD not in str(srv.client.list_channels())

        # Wrong credentials: refused for good, not retried, and the password is in no error.
        srv.client.create_channel(
            _email_channel("badmail", controller.port, security, ca, password="wrong-pass-999")
        )
        srv.client.test_channel("badmail")
        [refused] = _settled(srv, 1, channel="badmail")
        assert refused["status"] == "failed" and refused["attempts"] == 1
        assert refused["response_code"] == 535 and "wrong-pass-999" not in refused["error"]
    finally:
        controller.stop()


def test_email_refuses_a_certificate_it_does_not_trust(
    srv: Server, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    controller, mailbox = _smtp(certificate, implicit=False)
    try:
        other = self_signed(
            tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path
        )
        channel = _email_channel("mail", controller.port, "starttls", other[0].read_text())
        srv.client.create_channel(channel)
        srv.client.test_channel("mail")
        wait_for(
            lambda: (
                (d := srv.client.deliveries(channel="mail"))
                and d[0]["attempts"] >= 1
                and d[0]["error"]
            ),
            20,
            message="a failed attempt",
        )
        [attempted] = srv.client.deliveries(channel="mail")
        assert (
            "CERTIFICATE_VERIFY_FAILED" in attempted["error"]
            or "certificate" in attempted["error"].lower()
        )
        assert mailbox.messages == []
    finally:
        controller.stop()
