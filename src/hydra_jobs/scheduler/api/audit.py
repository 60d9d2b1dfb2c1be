"""The audit log: one record for every mutating API call that succeeded (who, what, when, which).

`AuditMiddleware` records at the HTTP edge, so a new route is audited without anyone remembering
to: the action is the route's name, the object its path parameter or the `id` of what it created.
Request and response bodies are never stored (job specs may hold secrets, a token is shown once);
only `id` and `name` are read from a response, and a route may add plain facts of its own
(`request.state.audit_details`, e.g. the AI provider, model and tokens of a call), or say that this
call changed nothing (`request.state.audit_skip`, an import's dry run). Records are
written in small batches (`AuditLog`), so a burst of triggers costs one insert, not one
transaction per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hydra_jobs.clock import Clock
from hydra_jobs.ids import new_id
from hydra_jobs.store.base import AuditRecord, Store

log = logging.getLogger(__name__)

FLUSH_DELAY_SECONDS = 0.05  # how long a record may wait to share a write with others
MAX_CAPTURED_BODY = 64 * 1024  # bytes of a response read for its id; larger ones give none
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_MUTATING = frozenset({"validate_job"})  # POST routes that change nothing
WRITE_ATTEMPTS = 3
# Routes whose object is not what their tag names: the id recorded is the run or token made.
OBJECT_TYPES = {
    "trigger_job": "run",
    "create_token": "token",
    "update_token": "token",
    "revoke_token": "token",
}


class AuditLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._pending: list[AuditRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def record(
        self,
        *,
        domain: str,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | None,
        details: dict[str, Any],
    ) -> None:
        self._pending.append(
            AuditRecord(
                id=new_id(),
                domain=domain,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                at=self.clock.now(),
                details=details,
            )
        )
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_soon(), name="audit-flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write what is pending (readers call it first, so they see their own calls)."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    await self.store.add_audits(batch)
                    return
                except Exception as exc:
                    if attempt == WRITE_ATTEMPTS:
                        log.error(
                            "could not store %d audit record(s): %s: %s",
                            len(batch),
                            type(exc).__name__,
                            exc,
                            extra={"action": "audit_lost"},
                        )
                        return
                    await asyncio.sleep(0.2 * attempt)

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                self._task.cancel()
                await self._task
        await self.flush()


class AuditMiddleware:
    """Pure ASGI (no body buffering for what it does not audit, streaming untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        status = 0
        body = bytearray()
        oversize = [False]  # too large to read an id from: recorded without one

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if len(body) + len(chunk) <= MAX_CAPTURED_BODY:
                    body.extend(chunk)
                else:
                    oversize[0] = True
            await send(message)

        await self.app(scope, receive, capture)
        if 200 <= status < 300:
            _record(scope, b"" if oversize[0] else bytes(body))


def _record(scope: Scope, body: bytes) -> None:
    state = scope.get("state") or {}
    who = state.get("principal")
    route = scope.get("route")
    app = scope.get("app")
    if who is None or route is None or app is None or route.name in NOT_MUTATING:
        return
    if state.get("audit_skip"):
        return
    params: dict[str, str] = dict(scope.get("path_params") or {})
    created = _ids_of(body)
    tag = (getattr(route, "tags", None) or ["api"])[0]
    details: dict[str, Any] = {"method": scope["method"], "route": getattr(route, "path", "")}
    if params:
        details["params"] = params
    if created.get("name"):
        details["name"] = created["name"]
    if who.token_id:
        details["token_id"] = who.token_id
    extra = state.get("audit_details")
    if isinstance(extra, dict):
        details.update(extra)  # what a route adds (the AI provider, model and tokens it used)
    object_id = (
        created.get("id") or (list(params.values())[-1] if params else None) or created.get("name")
    )
    engine = getattr(app.state, "engine", None)
    if engine is None:
        return
    engine.rt.audit.record(
        domain=(params.get("name") or created.get("name") or who.domain)
        if tag == "domains"
        else who.domain,
        actor=who.actor,
        action=f"{tag}.{route.name}",
        object_type=OBJECT_TYPES.get(route.name, tag.rstrip("s")),
        object_id=object_id,
        details=details,
    )


def _ids_of(body: bytes) -> dict[str, str]:
    if not body or len(body) > MAX_CAPTURED_BODY:
        return {}
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: str(doc[k]) for k in ("id", "name") if isinstance(doc.get(k), str | int)}
