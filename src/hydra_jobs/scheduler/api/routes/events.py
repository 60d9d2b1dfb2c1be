"""`GET /events`: live run, job and worker changes of the caller's domain, as SSE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
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
from hydra_jobs.scheduler.api.auth import RECHECK_SECONDS
from hydra_jobs.scheduler.api.deps import AuthDep, EngineDep, PrincipalDep, needs
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

    def matches(event: LiveEvent) -> bool:
        return event.domain == domain and event.type in wanted

    listener, resumed = engine.hub.listen(matches, last_event_id)
    watch = auth.watch(who)
    try:
        if not resumed:
            reset = ResetEvent(reason="cannot resume; refetch")
            yield ServerSentEvent(event="reset", data=wire(reset))
        ready = ReadyEvent(domain=domain, types=sorted(wanted))
        yield ServerSentEvent(event="ready", data=wire(ready))
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
            yield ServerSentEvent(event=event.type, id=event_id, data=wire(event))
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
