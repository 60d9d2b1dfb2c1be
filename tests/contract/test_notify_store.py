"""The notification store on every backend: channels, the outbox (dedup, claim, fenced finish,
retention), alert history, a domain's settings and job snoozes; all scoped and deleted with the
domain."""

from __future__ import annotations

from datetime import datetime

import pytest

from hydra_jobs.alerts import (
    AttemptResult,
    ChannelRecord,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    MaintenanceWindow,
    NotifyEvent,
    NotifyRule,
    NotifySettings,
    Snooze,
)
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.ids import new_id
from hydra_jobs.store.base import Store
from tests.contract.factories import T0, at


def _channel(name: str = "ops", domain: str = "default") -> ChannelRecord:
    return ChannelRecord(
        domain=domain,
        name=name,
        type="webhook",
        config={"url": "https://example.org/hook", "secret": "s" * 20},
        created_at=T0,
        created_by="test",
    )


def _delivery(
    key: str,
    *,
    domain: str = "default",
    status: DeliveryStatus = DeliveryStatus.PENDING,
    created_at: datetime = T0,
    job_id: str | None = "job1",
    run_id: str | None = "run1",
    event: NotifyEvent = NotifyEvent.FAILED,
) -> Delivery:
    return Delivery(
        id=new_id(),
        domain=domain,
        channel="ops",
        channel_type="webhook",
        event=event,
        dedup_key=key,
        job_id=job_id,
        job_name="nightly",
        run_id=run_id,
        status=status,
        next_attempt_at=created_at if status is DeliveryStatus.PENDING else None,
        created_at=created_at,
        payload={"event": event.value, "nested": {"a": [1, 2]}},
    )


async def test_channels_are_unique_scoped_and_deleted(store: Store) -> None:
    await store.create_channel(_channel())
    with pytest.raises(Conflict):
        await store.create_channel(_channel())
    assert await store.get_channel("default", "ops") == _channel()
    assert [c.name for c in await store.list_channels("default")] == ["ops"]
    with pytest.raises(NotFound):
        await store.get_channel("other", "ops")
    assert await store.list_channels("other") == []
    with pytest.raises(NotFound):
        await store.delete_channel("other", "ops")
    await store.delete_channel("default", "ops")
    with pytest.raises(NotFound):
        await store.get_channel("default", "ops")


async def test_a_dedup_key_enters_the_outbox_once(store: Store, twin: Store) -> None:
    first = _delivery("default/ops/failed/run1")
    assert await store.add_deliveries([first]) == [first]
    again = _delivery("default/ops/failed/run1")  # same fact, evaluated by another replica
    other = _delivery("default/ops/failed/run2", run_id="run2")
    assert await twin.add_deliveries([again, other]) == [other]
    page = await store.list_deliveries("default", DeliveryFilter(), limit=10, cursor=None)
    assert {d.id for d in page.items} == {first.id, other.id}
    assert page.items[0].payload == first.payload or page.items[1].payload == first.payload


async def test_an_attempt_is_claimed_once_and_finished_with_a_fence(
    store: Store, twin: Store
) -> None:
    d = _delivery("k1")
    await store.add_deliveries([d, _delivery("k2", created_at=at(100), run_id="run2")])
    claimed = await store.claim_deliveries(at(1), at(31), 10)
    assert [c.id for c in claimed] == [d.id]  # k2 is not due yet
    assert claimed[0].attempts == 1 and claimed[0].next_attempt_at == at(31)
    assert await twin.claim_deliveries(at(2), at(32), 10) == []  # held by the claim

    # The attempt failed: retry later. A finish of a stale attempt number changes nothing.
    stale = AttemptResult(d.id, 0, DeliveryStatus.SENT, at(3))
    assert not await store.finish_attempt(stale)
    retry = AttemptResult(
        d.id,
        1,
        DeliveryStatus.PENDING,
        at(3),
        next_attempt_at=at(10),
        response_code=503,
        error="HTTP 503",
    )
    assert await store.finish_attempt(retry)
    assert await store.claim_deliveries(at(9), at(40), 10) == []
    [second] = await twin.claim_deliveries(at(10), at(40), 10)
    assert second.attempts == 2 and second.response_code == 503
    assert await twin.finish_attempt(
        AttemptResult(d.id, 2, DeliveryStatus.SENT, at(11), response_code=200)
    )
    assert not await store.finish_attempt(AttemptResult(d.id, 2, DeliveryStatus.FAILED, at(12)))
    [row] = (
        await store.list_deliveries("default", DeliveryFilter(run_id="run1"), limit=5, cursor=None)
    ).items
    assert row.status is DeliveryStatus.SENT and row.sent_at == at(11) and row.attempts == 2
    assert row.response_code == 200 and row.error is None


async def test_an_unfinished_claim_is_due_again_after_it_lapses(store: Store) -> None:
    d = _delivery("k1")
    await store.add_deliveries([d])
    await store.claim_deliveries(at(1), at(31), 10)  # the leader died mid-send
    [again] = await store.claim_deliveries(at(31), at(61), 10)
    assert again.id == d.id and again.attempts == 2


async def test_delivery_history_filters_pages_and_last_alert(store: Store) -> None:
    keys = [f"k{i}" for i in range(5)]
    await store.add_deliveries(
        [_delivery(k, created_at=at(i), run_id=f"run{i % 2}") for i, k in enumerate(keys)]
    )
    await store.add_deliveries([_delivery("muted", status=DeliveryStatus.MUTED, created_at=at(50))])
    first = await store.list_deliveries("default", DeliveryFilter(), limit=4, cursor=None)
    assert len(first.items) == 4 and first.next_cursor is not None
    rest = await store.list_deliveries(
        "default", DeliveryFilter(), limit=4, cursor=first.next_cursor
    )
    assert len(rest.items) == 2 and rest.next_cursor is None
    by_run = await store.list_deliveries(
        "default", DeliveryFilter(run_id="run1"), limit=9, cursor=None
    )
    assert len(by_run.items) == 3  # run1: two alerts and the muted record
    assert (
        await store.list_deliveries("other", DeliveryFilter(), limit=9, cursor=None)
    ).items == []
    # A muted record is history, not an alert: the re-alert interval counts from the last alert.
    assert await store.last_alert_at("default", "ops", "job1", NotifyEvent.FAILED) == at(4)
    assert await store.last_alert_at("default", "ops", "job1", NotifyEvent.LOST) is None
    assert await store.last_alert_at("other", "ops", "job1", NotifyEvent.FAILED) is None


async def test_old_deliveries_go_but_pending_ones_stay(store: Store) -> None:
    await store.add_deliveries(
        [
            _delivery("old-sent", status=DeliveryStatus.SENT, created_at=T0),
            _delivery("old-pending", created_at=T0),
            _delivery("new-sent", status=DeliveryStatus.SENT, created_at=at(100)),
        ]
    )
    assert await store.delete_deliveries_before(at(50), batch=10) == 1
    left = await store.list_deliveries("default", DeliveryFilter(), limit=9, cursor=None)
    assert {d.dedup_key for d in left.items} == {"old-pending", "new-sent"}


async def test_domain_settings_and_snoozes(store: Store) -> None:
    assert await store.get_notify_settings("default") == (NotifySettings(), None)
    settings = NotifySettings(
        rules=[NotifyRule(channel="ops", on=["failed", "recovered"], after_failures=3)],
        maintenance=[MaintenanceWindow(start=at(0), end=at(3600), reason="upgrade")],
    )
    await store.set_notify_settings("default", settings, at(1))
    assert await store.get_notify_settings("default") == (settings, at(1))
    await store.set_notify_settings("default", NotifySettings(), at(2))
    assert await store.get_notify_settings("default") == (NotifySettings(), at(2))
    assert (await store.get_notify_settings("other"))[1] is None

    snooze = Snooze(
        job_id="job1", domain="default", until=at(600), reason="x", created_by="me", created_at=T0
    )
    await store.set_snooze(snooze)
    await store.set_snooze(snooze.model_copy(update={"until": at(900)}))
    assert await store.list_snoozes("default") == [snooze.model_copy(update={"until": at(900)})]
    assert await store.list_snoozes("other") == []
    assert await store.clear_snooze("default", "job1")
    assert not await store.clear_snooze("default", "job1")
    assert await store.list_snoozes("default") == []


async def test_a_deleted_domain_takes_its_notifications(store: Store) -> None:
    await store.create_domain("gone", None, T0)
    await store.create_channel(_channel(domain="gone"))
    await store.add_deliveries([_delivery("gone/ops/failed/r", domain="gone")])
    await store.set_notify_settings("gone", NotifySettings(), T0)
    await store.set_snooze(
        Snooze(job_id="j", domain="gone", until=at(60), created_by="me", created_at=T0)
    )
    await store.delete_domain("gone")
    assert await store.list_channels("gone") == []
    assert (await store.list_deliveries("gone", DeliveryFilter(), limit=9, cursor=None)).items == []
    assert (await store.get_notify_settings("gone"))[1] is None
    assert await store.list_snoozes("gone") == []
    # Its dedup keys are free again for a domain re-created under that name.
    await store.create_domain("gone", None, T0)
    assert len(await store.add_deliveries([_delivery("gone/ops/failed/r", domain="gone")])) == 1
