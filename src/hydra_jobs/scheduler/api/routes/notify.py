"""Notifications: channels (create, list, delete, send a test, delivery log), the domain's alert
rules and maintenance windows, job snoozes, and the alert history of a job or a run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from hydra_jobs.alerts import (
    CHANNEL_NAME_PATTERN,
    ChannelCreate,
    ChannelInfo,
    Delivery,
    DeliveryFilter,
    NotifySettings,
    NotifySettingsView,
    Snooze,
    SnoozeRequest,
)
from hydra_jobs.models import Page
from hydra_jobs.notify.service import NotifyService
from hydra_jobs.scheduler.api.deps import CursorQuery, LimitQuery, PrincipalDep, StoreDep, needs
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["notifications"])

ChannelName = Annotated[str, Path(pattern=CHANNEL_NAME_PATTERN, description="The channel's name.")]
IdQuery = Annotated[str | None, Query(max_length=64)]


async def get_notify(request: Request) -> NotifyService:
    rt = request.app.state.engine.rt
    return NotifyService(rt.store, rt.emitter, rt.clock.now())


NotifyDep = Annotated[NotifyService, Depends(get_notify)]


@router.post(
    "/channels",
    status_code=status.HTTP_201_CREATED,
    response_model=ChannelInfo,
    openapi_extra=needs(Role.editor),
)
async def create_channel(body: ChannelCreate, who: PrincipalDep, notify: NotifyDep) -> ChannelInfo:
    """A webhook, Slack or email channel of the caller's domain. Its secret (webhook `secret`,
    Slack `url`, SMTP `password`) is never shown again. 409 if the name is taken."""
    return await notify.create_channel(who.domain, who.actor, body)


@router.get("/channels", response_model=Page[ChannelInfo], openapi_extra=needs(Role.viewer))
async def list_channels(who: PrincipalDep, store: StoreDep) -> Page[ChannelInfo]:
    return Page[ChannelInfo](
        items=[ChannelInfo.of(c) for c in await store.list_channels(who.domain)]
    )


@router.get("/channels/{name}", response_model=ChannelInfo, openapi_extra=needs(Role.viewer))
async def get_channel(name: ChannelName, who: PrincipalDep, store: StoreDep) -> ChannelInfo:
    return ChannelInfo.of(await store.get_channel(who.domain, name))


@router.delete(
    "/channels/{name}", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=needs(Role.editor)
)
async def delete_channel(name: ChannelName, who: PrincipalDep, store: StoreDep) -> Response:
    """Its pending deliveries fail ("the channel was deleted"); its log stays."""
    await store.delete_channel(who.domain, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{name}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Delivery,
    openapi_extra=needs(Role.operator),
)
async def test_channel(name: ChannelName, who: PrincipalDep, notify: NotifyDep) -> Delivery:
    """Send a test notification through the outbox; its outcome shows in the delivery log."""
    return await notify.send_test(who.domain, name)


@router.get(
    "/channels/{name}/deliveries", response_model=Page[Delivery], openapi_extra=needs(Role.viewer)
)
async def channel_deliveries(
    name: ChannelName,
    who: PrincipalDep,
    store: StoreDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[Delivery]:
    """The channel's delivery log, newest first: status, response code, attempts."""
    await store.get_channel(who.domain, name)
    return await store.list_deliveries(
        who.domain, DeliveryFilter(channel=name), limit=limit, cursor=cursor
    )


@router.get("/deliveries", response_model=Page[Delivery], openapi_extra=needs(Role.viewer))
async def list_deliveries(
    who: PrincipalDep,
    store: StoreDep,
    job_id: IdQuery = None,
    run_id: IdQuery = None,
    channel: Annotated[str | None, Query(pattern=CHANNEL_NAME_PATTERN)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[Delivery]:
    """Alert history of the domain, a job or a run (muted and suppressed alerts included)."""
    flt = DeliveryFilter(channel=channel, job_id=job_id, run_id=run_id)
    return await store.list_deliveries(who.domain, flt, limit=limit, cursor=cursor)


@router.get("/notify-rules", response_model=NotifySettingsView, openapi_extra=needs(Role.viewer))
async def get_rules(who: PrincipalDep, notify: NotifyDep) -> NotifySettingsView:
    """The domain's alert rules (for every job that does not opt out) and maintenance windows."""
    return await notify.settings(who.domain)


@router.put("/notify-rules", response_model=NotifySettingsView, openapi_extra=needs(Role.editor))
async def set_rules(
    body: NotifySettings, who: PrincipalDep, notify: NotifyDep
) -> NotifySettingsView:
    return await notify.set_settings(who.domain, body)


@router.get("/snoozes", response_model=Page[Snooze], openapi_extra=needs(Role.viewer))
async def list_snoozes(who: PrincipalDep, notify: NotifyDep) -> Page[Snooze]:
    """Jobs whose alerts are muted now, and until when."""
    return Page[Snooze](items=await notify.active_snoozes(who.domain))


@router.put("/jobs/{job_id}/snooze", response_model=Snooze, openapi_extra=needs(Role.operator))
async def snooze_job(
    job_id: str, body: SnoozeRequest, who: PrincipalDep, notify: NotifyDep
) -> Snooze:
    """Mute the job's alerts until `until` (they are recorded as `muted`, not sent)."""
    return await notify.snooze(who.domain, who.actor, job_id, body)


@router.get("/jobs/{job_id}/snooze", response_model=Snooze, openapi_extra=needs(Role.viewer))
async def get_snooze(job_id: str, who: PrincipalDep, notify: NotifyDep) -> Snooze:
    """404 when the job is not snoozed."""
    return await notify.get_snooze(who.domain, job_id)


@router.delete(
    "/jobs/{job_id}/snooze",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra=needs(Role.operator),
)
async def unsnooze_job(job_id: str, who: PrincipalDep, notify: NotifyDep) -> Response:
    await notify.unsnooze(who.domain, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
