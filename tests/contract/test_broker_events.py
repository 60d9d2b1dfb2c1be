"""The broker contract, everything but the queues: worker events, live fan-out, control, leases.

Worker events reach ingest in the order each worker emitted them (a run's output chunks in
offset order) and, once acked, are not read again; live events reach the subscribers of their
domain with the domain set; a cancel is durable (polled, and checked at `begin`) besides its
nudge (St2); aborts and drains reach only the worker (of the domain) they name; leases expire.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hydra_jobs.broker.base import Received
from hydra_jobs.events import (
    Abort,
    Cancel,
    Drain,
    Heartbeat,
    JobEvent,
    LogEvent,
    Output,
    SchedulerNotice,
    Started,
    WorkerEvent,
)
from tests.contract.brokers import WAIT_SECONDS, BrokerPair
from tests.contract.factories import make_worker

AT = datetime(2026, 1, 1, tzinfo=UTC)


def base(run_id: str) -> dict[str, str]:
    return {"domain": "default", "run_id": run_id, "worker_id": "w1"}


async def read_all(brokers: BrokerPair, expected: int) -> list[Received]:
    await brokers.settle()
    got: list[Received] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while len(got) < expected and loop.time() < deadline:
        got += await brokers.sched.read_events(expected - len(got), 0.2)
    return got


async def test_worker_events_arrive_in_order_per_run_and_acked_ones_never_again(
    brokers: BrokerPair,
) -> None:
    runs = ["r1", "r2", "r3"]
    await brokers.claim_all(runs)
    events: list[WorkerEvent] = [Started(**base(r), pid=1, at=AT) for r in runs]
    for i in range(20):  # interleaved, one emit per chunk: as runs print side by side
        for r in runs:
            events.append(Output(**base(r), offset=i * 10, data=f"{r}-{i:06d}\n"))
    for event in events:
        await brokers.work.emit([event])
    await brokers.work.emit([Heartbeat(domain="default", worker=make_worker("w1"))])
    got = await read_all(brokers, len(events) + 1)
    assert [r.event for r in got[:-1]] == events
    assert isinstance(got[-1].event, Heartbeat) and got[-1].event.worker.id == "w1"
    for run in runs:  # each run's log: contiguous, in order
        chunks = [r.event for r in got if isinstance(r.event, Output) and r.event.run_id == run]
        assert [c.offset for c in chunks] == [i * 10 for i in range(20)]
    await brokers.sched.ack_events(got)
    await brokers.sched.ack_events(got)  # again: a no-op
    await brokers.settle()
    assert await brokers.sched.read_events(100, 0.3) == []


async def test_reading_events_waits_its_timeout_and_returns_at_most_count(
    brokers: BrokerPair,
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await brokers.sched.read_events(10, 0.3) == []
    assert loop.time() - start >= 0.25
    await brokers.claim_all(["r1"])
    await brokers.work.emit([Output(**base("r1"), offset=i, data="x") for i in range(5)])
    await brokers.settle()
    first = await brokers.sched.read_events(2, 1.0)
    assert [r.event.offset for r in first] == [0, 1]  # type: ignore[union-attr]
    rest = await read_all(brokers, 3)
    assert [r.event.offset for r in rest] == [2, 3, 4]  # type: ignore[union-attr]


async def test_live_events_reach_the_subscribers_of_their_domain_in_order(
    brokers: BrokerPair,
) -> None:
    sched = brokers.sched
    everything, mine, theirs = sched.subscribe(None), sched.subscribe("default"), None
    theirs = sched.subscribe("other")
    subs = [everything, mine, theirs]
    try:
        for sub in subs:
            await brokers.listening(sub)
        chunks = [LogEvent(run_id="r1", offset=i, data="x") for i in range(5)]
        await sched.publish("default", chunks)
        await sched.publish("other", [JobEvent(job_id="j1", deleted=True)])

        async def take(sub: Any, n: int) -> list[Any]:
            it = aiter(sub)
            return [await asyncio.wait_for(anext(it), WAIT_SECONDS) for _ in range(n)]

        stamped = [c.model_copy(update={"domain": "default"}) for c in chunks]
        assert await take(mine, 5) == stamped
        assert await take(everything, 6) == [
            *stamped,
            JobEvent(job_id="j1", deleted=True, domain="other"),
        ]
        assert await take(theirs, 1) == [JobEvent(job_id="j1", deleted=True, domain="other")]
    finally:
        for sub in subs:
            await sub.close()


async def test_a_cancel_is_durable_and_stops_a_run_before_it_begins(brokers: BrokerPair) -> None:
    """St2: the marker is polled and checked at `begin`; the nudge only makes it faster."""
    sched, work = brokers.sched, brokers.work
    watch = work.watch_control("default", "w1")
    try:
        await brokers.listening(watch)
        [cancelled, kept] = await brokers.claim_all(["r1", "r2"])
        await sched.request_cancel("default", "r1")
        nudge = await asyncio.wait_for(anext(aiter(watch)), WAIT_SECONDS)
        assert nudge == Cancel(run_id="r1")
        assert await work.is_cancel_requested("r1")
        assert not await work.is_cancel_requested("r2")
        assert not await work.is_cancel_requested("never-heard-of")
        assert await work.poll_control("default", "w1", ["r1", "r2", "nope"]) == [
            Cancel(run_id="r1")
        ]
        assert not await work.begin(cancelled, "w1")
        assert await work.begin(kept, "w1")
        await sched.request_cancel("default", "r1")  # again: still one marker
        assert await work.poll_control("default", "w1", ["r1"]) == [Cancel(run_id="r1")]
    finally:
        await watch.close()


async def test_aborts_and_drains_reach_only_the_worker_and_domain_they_name(
    brokers: BrokerPair,
) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.send_control("default", Abort(run_id="r2", worker_id="w1"))
    await sched.send_control("default", Drain(worker_id="w1"))
    found = await work.poll_control("default", "w1", ["r2"])
    assert Abort(run_id="r2", worker_id="w1") in found
    assert Drain(worker_id="w1") in found and len(found) == 2
    assert await work.poll_control("default", "w2", ["r2"]) == []  # both were for w1
    # Signed for another domain's worker of the same id: not this worker's.
    await sched.send_control("other", Drain(worker_id="w9"))
    await sched.send_control("other", Abort(run_id="r3", worker_id="w9"))
    assert await work.poll_control("default", "w9", ["r3"]) == []
    other = await brokers.worker("other")
    assert len(await other.poll_control("other", "w9", ["r3"])) == 2


async def test_scheduler_nudges_reach_every_watching_replica(brokers: BrokerPair) -> None:
    watches = [brokers.sched.watch_schedulers(), brokers.sched.watch_schedulers()]
    try:
        for watch in watches:
            await brokers.listening(watch)
        notice = SchedulerNotice(origin="a", dispatch=True, jobs=["j1"])
        await brokers.sched.notify_schedulers(notice)
        for watch in watches:
            got = await asyncio.wait_for(anext(aiter(watch)), WAIT_SECONDS)
            assert got == notice
    finally:
        for watch in watches:
            await watch.close()


async def test_worker_leases_are_renewed_dropped_and_expire(brokers: BrokerPair) -> None:
    work, sched = brokers.work, brokers.sched
    await work.renew_worker_lease("w1", 10)
    await work.renew_worker_lease("w2", 0.3)
    assert await sched.live_workers() == {"w1", "w2"}
    await work.drop_worker_lease("w1")
    await work.drop_worker_lease("never-had-one")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while await sched.live_workers() and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert await sched.live_workers() == set()


async def test_the_leader_lease_is_compare_and_renew(brokers: BrokerPair) -> None:
    sched = brokers.sched
    assert await sched.try_lead("a", 0.3)
    assert not await sched.try_lead("b", 0.3)
    assert await sched.try_lead("a", 0.3)  # renewed
    await sched.resign("b")  # not the holder: no effect
    assert not await sched.try_lead("b", 0.3)
    await asyncio.sleep(0.4)
    assert await sched.try_lead("b", 0.3)  # expired: taken over
    assert not await sched.try_lead("a", 0.3)  # the old holder cannot renew
    await sched.resign("b")
    assert await sched.try_lead("a", 0.3)


async def test_the_first_start_is_seen_once(brokers: BrokerPair) -> None:
    assert await brokers.sched.check_boot()  # an empty broker: queues are filled from the store
    assert not await brokers.sched.check_boot()
