"""Runs: history, detail, logs (paged and live), cancel, retry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from hydra_jobs.events import LogChunkEvent, LogEndEvent, LogEvent, RunEvent, wire
from hydra_jobs.limits import UtcTime
from hydra_jobs.models import LogPage, Page, RunDetail, RunSummary
from hydra_jobs.scheduler.api.deps import (
    AuthDep,
    CursorQuery,
    EngineDep,
    LimitQuery,
    PrincipalDep,
    RunDep,
    RuntimeDep,
    StoreDep,
    needs,
)
from hydra_jobs.scheduler.services.jobs import Principal, run_detail
from hydra_jobs.scheduler.services.runs import cancel_run, retry_run
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter, Store
from hydra_jobs.tenancy import Role

router = APIRouter(prefix="/runs", tags=["runs"])

LOG_PAGE_CHARS = 256 * 1024
MAX_OFFSET = 2**53  # far beyond any log, and within every store's integers
STREAM_RECHECK_SECONDS = 5.0  # live hints can be lost: re-read the store at least this often


@router.get("", response_model=Page[RunSummary], openapi_extra=needs(Role.viewer))
async def list_runs(
    who: PrincipalDep,
    store: StoreDep,
    job_id: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[list[RunStatus] | None, Query(alias="status")] = None,
    worker_id: Annotated[str | None, Query(max_length=64)] = None,
    since: UtcTime | None = None,
    until: UtcTime | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[RunSummary]:
    """Run history, newest first. `status` may repeat; `since`/`until` bound `created_at`."""
    page = await store.list_runs(
        who.domain,
        RunFilter(job_id=job_id, status=status_, worker_id=worker_id, since=since, until=until),
        limit=limit,
        cursor=cursor,
    )
    return Page[RunSummary](items=[r.summary() for r in page.items], next_cursor=page.next_cursor)


@router.get("/{run_id}", response_model=RunDetail, openapi_extra=needs(Role.viewer))
async def get_run(run: RunDep, who: PrincipalDep, rt: RuntimeDep) -> RunDetail:
    """The run with its spec snapshot; a pending or queued run says why it waits, if no
    online worker could take it (`waiting_reason`)."""
    return await run_detail(rt, who, run)


@router.get("/{run_id}/logs", response_model=LogPage, openapi_extra=needs(Role.viewer))
async def get_logs(
    run_id: str,
    who: PrincipalDep,
    store: StoreDep,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=4 * 1024 * 1024)] = LOG_PAGE_CHARS,
) -> LogPage:
    """Stored output from `offset` (characters); follow `next_offset` until `complete`."""
    return await store.read_log(who.domain, run_id, offset, limit)


@router.post(
    "/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunDetail,
    openapi_extra=needs(Role.operator),
)
async def cancel(run: RunDep, rt: RuntimeDep) -> RunDetail:
    """Stop a run; its whole process tree is killed. 409 if it already ended."""
    return (await cancel_run(rt, run)).detail()


@router.post(
    "/{run_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunDetail,
    openapi_extra=needs(Role.operator),
)
async def retry(run: RunDep, rt: RuntimeDep) -> RunDetail:
    """A new attempt of a finished run, now. 409 while it is still active."""
    return (await retry_run(rt, run)).detail()


@router.get(
    "/{run_id}/logs/stream", response_class=EventSourceResponse, openapi_extra=needs(Role.viewer)
)
async def stream_logs(
    run: RunDep,
    who: PrincipalDep,
    auth: AuthDep,
    engine: EngineDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterable[ServerSentEvent]:
    """Output as it arrives: `log` events `{offset, data}` with id = next offset; then `end`.

    Reconnect with `Last-Event-ID` (the last id seen) to resume with no gap and no repeat.
    """
    store = engine.rt.store
    run_id = run.id
    position = parse_offset(last_event_id)
    watch = auth.watch(who)
    listener, _ = engine.hub.listen(
        lambda e: (
            (isinstance(e, LogEvent) and e.run_id == run_id)
            or (isinstance(e, RunEvent) and e.run.id == run_id)
        )
    )
    try:
        while True:
            async for event in _catch_up(store, who, run_id, position):
                position = int(event.id or position)
                yield event
                if event.event == "end":
                    return
                if await watch.revoked():
                    return  # the client's reconnect gets its 401
            try:
                item = await asyncio.wait_for(listener.get(), STREAM_RECHECK_SECONDS)
            except TimeoutError:
                if await watch.revoked():
                    return  # the client's reconnect gets its 401
                continue
            if item is None:
                return  # hub shutting down or client too slow: it reconnects and resumes
    finally:
        listener.close()


def parse_offset(value: str | None) -> int:
    """A `Last-Event-ID` offset; anything that is not a plain, sane number starts from 0."""
    if value is None or not re.fullmatch(r"[0-9]{1,15}", value):
        return 0
    return int(value)


async def _catch_up(
    store: Store, who: Principal, run_id: str, position: int
) -> AsyncIterable[ServerSentEvent]:
    """Everything stored from `position`, then `end` if the run is over and fully read."""
    while True:
        page = await store.read_log(who.domain, run_id, position, LOG_PAGE_CHARS)
        if page.data:
            chunk = LogChunkEvent(offset=position, data=page.data)
            yield ServerSentEvent(event="log", id=str(page.next_offset), data=wire(chunk))
            position = page.next_offset
        if page.complete:
            run = await store.get_run(who.domain, run_id)
            end = LogEndEvent(
                status=run.status,
                exit_code=run.exit_code,
                error=run.error,
                truncated=page.truncated,
            )
            yield ServerSentEvent(event="end", id=str(position), data=wire(end))
            return
        if not page.data:
            return
