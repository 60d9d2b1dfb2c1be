"""The audit log's HTTP edge: every mutating API call that succeeded is recorded (who, what, which).

`AuditMiddleware` records at the HTTP edge, so a new route is audited without anyone remembering
to: the action is the route's name, the object its path parameter or the `id` of what it created.
Request and response bodies are never stored (job specs may hold secrets, a token is shown once);
only `id` and `name` are read from a response, and a route may add plain facts of its own
(`request.state.audit_details`, e.g. the AI provider, model and tokens of a call), or say that this
call changed nothing (`request.state.audit_skip`, an import's dry run). The records go to the
replica's `AuditLog` (`scheduler/audit_log.py`), which writes them in small batches.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_CAPTURED_BODY = 64 * 1024  # bytes of a response read for its id; larger ones give none
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_MUTATING = frozenset({"validate_job"})  # POST routes that change nothing
# Routes whose object is not what their tag names: the id recorded is the run or token made.
OBJECT_TYPES = {
    "trigger_job": "run",
    "create_token": "token",
    "update_token": "token",
    "revoke_token": "token",
}


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
