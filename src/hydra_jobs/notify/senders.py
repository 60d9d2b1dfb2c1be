"""Channel senders: one attempt at delivering one notification over a webhook, Slack or SMTP.

A sender never raises for a failed delivery: it returns a `SendResult` saying whether to retry.
Receivers are untrusted (a domain token may name any URL), so a target that resolves to a
loopback, private, link-local or metadata address is refused unless the operator allows it
(`HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS`, N4), redirects are not followed, and only the status line of
an answer is kept. Channel secrets are never logged nor put into errors (N3).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from hydra_jobs import __version__
from hydra_jobs.alerts import ChannelRecord, Delivery
from hydra_jobs.notify.message import email_message, slack_body
from hydra_jobs.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

SEND_TIMEOUT_SECONDS = 15.0
RETRYABLE_CODES = frozenset({408, 425, 429})  # besides 5xx: the receiver may take it later
ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    code: int | None = None
    error: str | None = None
    permanent: bool = False  # retrying cannot help (refused target, 4xx): give up now


def address_problem(address: str) -> str | None:
    """Why a channel may not connect to `address` (loopback, private, link-local...), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for why, hit in (
        ("loopback", ip.is_loopback),
        ("link-local or cloud metadata", ip.is_link_local),
        ("private network", ip.is_private),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if hit:
            return why
    return None


class TargetRefused(Exception):
    """The channel's host resolves to an address the operator did not allow."""


async def check_host(host: str, port: int, *, allow_private: bool) -> None:
    if allow_private:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConnectionError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        why = address_problem(str(info[4][0]))
        if why is not None:
            raise TargetRefused(
                f"{host!r} resolves to {info[4][0]} ({why}); such targets are refused unless "
                "the scheduler sets HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS"
            )


class Senders:
    def __init__(self, *, allow_private_hosts: bool, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.allow_private = allow_private_hosts
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,  # no proxy from the environment between us and a receiver
                headers={"User-Agent": f"hydra-jobs/{__version__}"},
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, channel: ChannelRecord, delivery: Delivery) -> SendResult:
        try:
            if channel.type == "email":
                return await self._email(channel, delivery)
            if channel.type == "slack":
                body = json.dumps(slack_body(delivery.payload)).encode()
                return await self._post(str(channel.config["url"]), body, {})
            return await self._webhook(channel, delivery)
        except TargetRefused as exc:
            return SendResult(False, error=str(exc), permanent=True)
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx (bad credentials, refused sender or recipients) will not change by retrying.
            return SendResult(
                False,
                code=exc.code,
                error=_describe(exc, channel),
                permanent=500 <= exc.code < 600,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, code=550, error=_describe(exc, channel), permanent=True)
        except Exception as exc:  # a network or protocol failure: worth another attempt
            return SendResult(False, error=_describe(exc, channel))

    async def _webhook(self, channel: ChannelRecord, delivery: Delivery) -> SendResult:
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        stamp = int(time.time())
        headers = {
            TIMESTAMP_HEADER: str(stamp),
            DELIVERY_HEADER: delivery.dedup_key,
            "Idempotency-Key": delivery.dedup_key,
            EVENT_HEADER: delivery.event.value,
        }
        secret = channel.config.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = sign(str(secret), stamp, body)
        return await self._post(str(channel.config["url"]), body, headers)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await check_host(parts.hostname or "", port, allow_private=self.allow_private)
        answer = await self.http().post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
        code = answer.status_code
        if 200 <= code < 300:
            return SendResult(True, code=code)
        error = f"HTTP {code} {answer.reason_phrase}"[:ERROR_CHARS]
        permanent = 300 <= code < 500 and code not in RETRYABLE_CODES
        return SendResult(False, code=code, error=error, permanent=permanent)

    async def _email(self, channel: ChannelRecord, delivery: Delivery) -> SendResult:
        config: dict[str, Any] = channel.config
        host, port = str(config["host"]), int(config.get("port", 587))
        await check_host(host, port, allow_private=self.allow_private)
        security = config.get("security", "starttls")
        message = email_message(delivery.payload, str(config["sender"]), list(config["to"]))
        context = ssl.create_default_context(cadata=config.get("ca_pem") or None)
        await aiosmtplib.send(
            message,
            hostname=host,
            port=port,
            username=config.get("username"),
            password=config.get("password"),
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=context if security != "none" else None,
            timeout=self.timeout,
        )
        return SendResult(True, code=250)


def _describe(exc: Exception, channel: ChannelRecord) -> str:
    """An error as the delivery log shows it, with the channel's secrets taken out."""
    text = f"{type(exc).__name__}: {exc}"
    for key in ("secret", "password", "url"):
        value = channel.config.get(key)
        if isinstance(value, str) and len(value) >= 4 and value in text:
            text = text.replace(value, "[redacted]")
    return text[:ERROR_CHARS]
