"""`GET /events`: live run, job and worker changes of the caller's domain, as SSE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from hydra_jobs.errors import InvalidInput
from hydra_jobs.scheduler.api.auth import RECHECK_SECONDS
from hydra_jobs.scheduler.api.deps import AuthDep, EngineDep, PrincipalDep, needs
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["events"])

EVENT_TYPES = frozenset({"run", "job", "worker", "log"})


async def event_types(
    types: Annotated[
        str, Query(description="Comma-separated: run, job, worker, log.", max_length=100)
    ] = "run,job,worker",
) -> set[str]:
    """Checked before the stream starts, so a bad value is a plain 422."""
    asked = {t.strip() for t in types.split(",") if t.strip()}
    if not asked or asked - EVENT_TYPES:
        unknown = ", ".join(sorted(asked - EVENT_TYPES)) or "none given"
        raise InvalidInput(
            f"unknown event type(s): {unknown[:200]}; use run, job, worker, log",
            loc=("query", "types"),
        )
    return asked


@router.get("/events", response_class=EventSourceResponse, openapi_extra=needs(Role.viewer))
async def events(
    who: PrincipalDep,
    auth: AuthDep,
    engine: EngineDep,
    types: Annotated[set[str], Depends(event_types)],
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterable[ServerSentEvent]:
    """Events named by their type; `data` is the changed object.

    Reconnect with `Last-Event-ID` to receive what was missed. A `reset` event means the gap
    could not be replayed (the server restarted or too much happened): refetch your lists.
    """
    wanted = types
    domain = who.domain

    def matches(event: dict[str, Any]) -> bool:
        return event.get("domain") == domain and event.get("type") in wanted

    listener, resumed = engine.hub.listen(matches, last_event_id)
    watch = auth.watch(who)
    try:
        if not resumed:
            yield ServerSentEvent(event="reset", data={"reason": "cannot resume; refetch"})
        yield ServerSentEvent(event="ready", data={"domain": domain, "types": sorted(wanted)})
        while True:
            try:
                item = await asyncio.wait_for(listener.get(), RECHECK_SECONDS)
            except TimeoutError:
                if await watch.revoked():
                    return  # the client's reconnect gets its 401
                continue
            if item is None or await watch.revoked():
                return
            event_id, event = item
            yield ServerSentEvent(event=str(event["type"]), id=event_id, data=event)
    finally:
        listener.close()
