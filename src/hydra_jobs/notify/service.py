"""Use cases behind the notification routes: channels, test sends, the domain's rules and
maintenance windows, job snoozes. Routes stay thin; scoping to the caller's domain is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hydra_jobs.alerts import (
    ChannelInfo,
    ChannelRecord,
    Delivery,
    DeliveryStatus,
    EmailChannelCreate,
    NotifyEvent,
    NotifyRule,
    NotifySettings,
    NotifySettingsView,
    SlackChannelCreate,
    Snooze,
    SnoozeRequest,
    WebhookChannelCreate,
)
from hydra_jobs.errors import InvalidInput, NotFound
from hydra_jobs.ids import new_id
from hydra_jobs.notify.emit import Emitter, public_url
from hydra_jobs.notify.message import test_payload
from hydra_jobs.notify.rules import dedup_key, mute_reason
from hydra_jobs.store.base import Store


async def check_channels(
    store: Store, domain: str, rules: Sequence[NotifyRule], *, at: str
) -> None:
    """422 naming the rule whose channel the domain does not have."""
    if not rules:
        return
    known = {c.name for c in await store.list_channels(domain)}
    for index, rule in enumerate(rules):
        if rule.channel not in known:
            raise InvalidInput(
                f"no channel named '{rule.channel}' in this domain (create it first: "
                "POST /api/v1/channels)",
                loc=("body", at, index, "channel"),
            )


class NotifyService:
    def __init__(self, store: Store, emitter: Emitter, now: datetime) -> None:
        self.store = store
        self.emitter = emitter
        self.now = now

    async def create_channel(
        self,
        domain: str,
        actor: str,
        body: WebhookChannelCreate | SlackChannelCreate | EmailChannelCreate,
    ) -> ChannelInfo:
        record = ChannelRecord(
            domain=domain,
            name=body.name,
            type=body.type,
            config=body.model_dump(mode="json", exclude={"name", "type"}),
            created_at=self.now,
            created_by=actor,
        )
        await self.store.create_channel(record)
        return ChannelInfo.of(record)

    async def send_test(self, domain: str, name: str) -> Delivery:
        channel = await self.store.get_channel(domain, name)
        key = dedup_key(domain, name, NotifyEvent.TEST, new_id())
        delivery = Delivery(
            id=new_id(),
            domain=domain,
            channel=name,
            channel_type=channel.type,
            event=NotifyEvent.TEST,
            dedup_key=key,
            status=DeliveryStatus.PENDING,
            next_attempt_at=self.now,
            created_at=self.now,
            payload=test_payload(domain, name, key, public_url(self.emitter.settings), self.now),
        )
        await self.store.add_deliveries([delivery])
        self.emitter.wake()
        return delivery

    async def settings(self, domain: str) -> NotifySettingsView:
        found, updated = await self.store.get_notify_settings(domain)
        return NotifySettingsView(
            **found.model_dump(),
            updated_at=updated,
            muted_now=mute_reason(self.now, found.maintenance, None) is not None,
        )

    async def set_settings(self, domain: str, body: NotifySettings) -> NotifySettingsView:
        await check_channels(self.store, domain, body.rules, at="rules")
        await self.store.set_notify_settings(domain, body, self.now)
        self.emitter.forget(domain)
        return await self.settings(domain)

    async def snooze(self, domain: str, actor: str, job_id: str, body: SnoozeRequest) -> Snooze:
        await self.store.get_job(domain, job_id, with_last_run=False)  # 404 outside the domain
        if body.until <= self.now:
            raise InvalidInput("must be in the future", loc=("body", "until"))
        snooze = Snooze(
            job_id=job_id,
            domain=domain,
            until=body.until,
            reason=body.reason,
            created_by=actor,
            created_at=self.now,
        )
        await self.store.set_snooze(snooze)
        return snooze

    async def get_snooze(self, domain: str, job_id: str) -> Snooze:
        await self.store.get_job(domain, job_id, with_last_run=False)
        for snooze in await self.store.list_snoozes(domain):
            if snooze.job_id == job_id and snooze.until > self.now:
                return snooze
        raise NotFound("the job is not snoozed")

    async def unsnooze(self, domain: str, job_id: str) -> None:
        await self.store.get_job(domain, job_id, with_last_run=False)
        await self.store.clear_snooze(domain, job_id)

    async def active_snoozes(self, domain: str) -> list[Snooze]:
        return [s for s in await self.store.list_snoozes(domain) if s.until > self.now]
