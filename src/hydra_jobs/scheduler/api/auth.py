"""Bearer-token authentication: who is calling and which domain they act in.

Deny by default: every route but health depends on `authenticate`. Two kinds of token:
- `ADMIN_TOKEN` (configuration): acts on any domain, named by the `X-Hydra-Domain` header or the
  `domain` query parameter (the same two on every route), `default` when neither is given;
- domain tokens (`hydra_jobs.tokens`): looked up by id in the store on every call, so a
  revocation holds at once on every scheduler replica; secrets compared in constant time.
A domain token that names another domain gets a 404 for it, as for any object not its own.
Wrong tokens are throttled per client address (`throttle.py`); valid ones never are.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from datetime import datetime

from fastapi import Request

from hydra_jobs.clock import Clock
from hydra_jobs.errors import NotFound, RateLimited, Unauthorized
from hydra_jobs.scheduler.api.throttle import AuthThrottle, client_key
from hydra_jobs.scheduler.services.jobs import Principal
from hydra_jobs.store.base import Store
from hydra_jobs.tenancy import DEFAULT_DOMAIN, DOMAIN_PATTERN
from hydra_jobs.tokens import TokenRecord, matches, parse

DOMAIN_RE = re.compile(DOMAIN_PATTERN)  # used with fullmatch: `$` would let "ops\n" through
DOMAIN_HEADER = "x-hydra-domain"
DOMAIN_FREE_ROUTES = ("/api/v1/me", "/api/v1/domains")
TOUCH_INTERVAL_SECONDS = 60.0  # `last_used_at` is written at most this often per token
INVALID = "invalid or revoked token"
RECHECK_SECONDS = 5.0  # how long an open stream of a revoked token may go on


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _acts_outside(path: str) -> bool:
    """Whether `path` is a route that does not act in the named domain: who the caller is, and
    the domains themselves (an admin whose chosen domain was deleted must still list the
    others to choose one, and may name a domain it is about to create)."""
    return any(path == route or path.startswith(route + "/") for route in DOMAIN_FREE_ROUTES)


def _route_path(request: Request) -> str:
    """The request's path as the routes see it: without the prefix a proxy serves us under."""
    path, root = request.url.path, request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def requested_domain(request: Request) -> str | None:
    return request.headers.get(DOMAIN_HEADER) or request.query_params.get("domain") or None


async def note_use(store: Store, record: TokenRecord, now: datetime) -> None:
    """Keep a token's `last_used_at` current, writing it at most every TOUCH_INTERVAL_SECONDS."""
    last = record.last_used_at
    if last is None or (now - last).total_seconds() >= TOUCH_INTERVAL_SECONDS:
        await store.touch_token(record.id, now)


class Authenticator:
    def __init__(self, admin_token: str | None, store: Store, clock: Clock) -> None:
        self._admin = admin_token.encode() if admin_token else None
        self.store = store
        self.clock = clock
        self.throttle = AuthThrottle()

    async def __call__(self, request: Request) -> Principal:
        token = bearer_token(request)
        if token is None:
            # Not counted: sending no token guesses nothing (a UI before its sign-in).
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        try:
            return await self._check(request, token)
        except _WrongToken:
            await self._failed(request)
            raise Unauthorized(INVALID) from None

    async def _failed(self, request: Request) -> None:
        """A wrong token: counted against its address, answered late or with a 429."""
        key = client_key(request.client.host if request.client else None)
        verdict = self.throttle.failed(key, time.monotonic())
        if verdict.retry_after_seconds is not None:
            raise RateLimited(
                "too many requests with a wrong token from this address: "
                f"try again in {verdict.retry_after_seconds} s",
                retry_after=verdict.retry_after_seconds,
            )
        if verdict.delay_seconds:
            await asyncio.sleep(verdict.delay_seconds)

    async def _check(self, request: Request, token: str) -> Principal:
        wanted = requested_domain(request)
        if self._admin is not None and hmac.compare_digest(token.encode(), self._admin):
            domain = wanted or DEFAULT_DOMAIN
            if not DOMAIN_RE.fullmatch(domain):
                raise NotFound(f"domain '{domain[:64]}' not found")
            # A domain named by the caller is looked up: a misspelt one read as empty, silently.
            if wanted is not None and not _acts_outside(_route_path(request)):
                if not await self.store.has_domain(domain):
                    raise NotFound(f"domain '{domain}' not found: create it first (admin)")
            return Principal(domain=domain, actor="admin", is_admin=True)
        parsed = parse(token)
        if parsed is None:
            raise _WrongToken
        record = await self.store.get_token(parsed.token_id)
        if record is None or not matches(parsed, record.secret_hash):
            raise _WrongToken
        if record.revoked_at is not None:
            # Not counted: whoever sends it knew the secret, so it is a stale client, no guess.
            raise Unauthorized(INVALID)
        if wanted is not None and wanted != record.domain:
            raise NotFound(f"domain '{wanted[:64]}' not found")
        await note_use(self.store, record, self.clock.now())
        return Principal(
            domain=record.domain, actor=f"token:{record.name}", token_id=record.id, role=record.role
        )

    def watch(self, who: Principal) -> RevocationWatch:
        return RevocationWatch(self, who)

    async def still_valid(self, who: Principal) -> bool:
        """For long-lived streams: has the caller's token been revoked since they connected?"""
        if who.token_id is None:
            return True  # the admin token lives in configuration: it changes with a restart
        record = await self.store.get_token(who.token_id)
        return record is not None and record.revoked_at is None


class _WrongToken(Exception):
    """A token that is not one of ours (malformed, unknown, wrong secret): maybe a guess."""


class RevocationWatch:
    """For a long-lived stream: re-checks its token at most every `RECHECK_SECONDS`, busy or not."""

    def __init__(self, auth: Authenticator, who: Principal) -> None:
        self.auth = auth
        self.who = who
        self._next = time.monotonic() + RECHECK_SECONDS

    async def revoked(self) -> bool:
        if self.who.token_id is None or time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + RECHECK_SECONDS
        return not await self.auth.still_valid(self.who)
