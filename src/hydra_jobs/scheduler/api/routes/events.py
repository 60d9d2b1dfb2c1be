"""`GET /events`: live run, job and worker changes of the caller's domain, as SSE.

Built for many viewers: the streams of one domain share a feed of the hub (scheduler/hub.py),
which matches and encodes each event once and hands every stream the same chunk of what came
within a tenth of a second, so a stream writes a burst in few writes, not event by event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hydra_jobs.errors import InvalidInput
from hydra_jobs.events import (
    JobEvent,
    LiveEvent,
    LogChunkEvent,
    LogEndEvent,
    LogEvent,
    ReadyEvent,
    ResetEvent,
    RunEvent,
    WorkerStateEvent,
    wire,
)
from hydra_jobs.scheduler.api.auth import RECHECK_SECONDS, RevocationWatch
from hydra_jobs.scheduler.api.deps import AuthDep, EngineDep, PrincipalDep, needs
from hydra_jobs.scheduler.hub import Listener, sse_bytes
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["events"])

# The `data` of each event (by its SSE `event` name) of each stream, for the OpenAPI schema.
STREAMS: dict[str, dict[str, type[BaseModel]]] = {
    "/api/v1/events": {
        "run": RunEvent,
        "job": JobEvent,
        "worker": WorkerStateEvent,
        "log": LogEvent,
        "reset": ResetEvent,
        "ready": ReadyEvent,
    },
    "/api/v1/runs/{run_id}/logs/stream": {"log": LogChunkEvent, "end": LogEndEvent},
}

EVENT_TYPES = frozenset({"run", "job", "worker", "log"})
KEEPALIVE = b": ping\n\n"
KEEPALIVE_SECONDS = 15.0  # idle streams get a comment this often, so proxies keep them open
BATCH_EVENTS = 500  # at most this many queued items (events or feed chunks) in one write
SSE_ITEM_SCHEMA = {  # what FastAPI documents for an SSE route
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


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


@router.get(
    "/events",
    # The stream is built here, not by FastAPI's per-item SSE encoding: documented by hand.
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {"itemSchema": SSE_ITEM_SCHEMA}}}},
    openapi_extra=needs(Role.viewer),
)
async def events(
    who: PrincipalDep,
    auth: AuthDep,
    engine: EngineDep,
    types: Annotated[set[str], Depends(event_types)],
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """Events named by their type; `data` is the changed object.

    Reconnect with `Last-Event-ID` to receive what was missed. A `reset` event means the gap
    could not be replayed (the server restarted or too much happened): refetch your lists.
    """
    wanted = types
    domain = who.domain

    def matches(event: LiveEvent) -> bool:
        return event.domain == domain and event.type in wanted

    # Every stream of this domain and these types wants the same events: one feed for them all.
    feed = ("events", domain, tuple(sorted(wanted)))
    listener, resumed = engine.hub.listen(matches, last_event_id, feed)
    first = (
        b"" if resumed else sse_bytes("reset", wire(ResetEvent(reason="cannot resume; refetch")))
    )
    first += sse_bytes("ready", wire(ReadyEvent(domain=domain, types=sorted(wanted))))
    response = EventSourceResponse(_stream(listener, auth.watch(who), first))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _stream(listener: Listener, watch: RevocationWatch, first: bytes) -> AsyncIterator[bytes]:
    try:
        yield first
        idle = 0.0
        while True:
            try:
                async with asyncio.timeout(min(RECHECK_SECONDS, KEEPALIVE_SECONDS)):
                    batch = await listener.take(BATCH_EVENTS)
            except TimeoutError:
                if await watch.revoked():
                    return  # the client's reconnect gets its 401
                idle += min(RECHECK_SECONDS, KEEPALIVE_SECONDS)
                if idle >= KEEPALIVE_SECONDS:
                    idle = 0.0
                    yield KEEPALIVE
                continue
            if batch is None or await watch.revoked():
                return
            idle = 0.0
            yield b"".join(out.wire() for out in batch)
    finally:
        listener.close()


def document_streams(schema: dict[str, Any]) -> dict[str, Any]:
    """Name each stream's event payloads in the OpenAPI schema (FastAPI knows only that a stream
    yields SSE events): every model in `components`, `LiveEvent` (the `GET /events` changes,
    discriminated by `type`), and each stream's `data` as one of its payloads, so clients
    generate these types like the rest of the API. Idempotent."""
    models = {model for events in STREAMS.values() for model in events.values()}
    _, top = models_json_schema(
        [(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in top.get("$defs", {}).items():
        components.setdefault(name, definition)  # Job, RunSummary, Worker: the API's own

    def ref(model: type) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    live = {"run": RunEvent, "job": JobEvent, "worker": WorkerStateEvent, "log": LogEvent}
    components["LiveEvent"] = {
        "title": "LiveEvent",
        "description": "A change of the caller's domain, as `GET /events` sends it.",
        "oneOf": [ref(m) for m in live.values()],
        "discriminator": {
            "propertyName": "type",
            "mapping": {kind: ref(m)["$ref"] for kind, m in live.items()},
        },
    }
    for path, events in STREAMS.items():
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        item = content["text/event-stream"]["itemSchema"]
        item["properties"]["event"] = {"type": "string", "enum": list(events)}
        item["properties"]["data"] = {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"oneOf": [ref(m) for m in dict.fromkeys(events.values())]},
        }
    return schema
