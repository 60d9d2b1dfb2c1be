"""The live hub never leaves a gap silent (issue 19): a stream that falls behind is cut off and
resumes where it was or is told to refetch; events lost before the hub got them start a new
epoch, so every resume across them is a `reset`. Each event is encoded once for all streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from hydra_jobs.broker.base import Broker
from hydra_jobs.broker.memory import SUBSCRIBER_BUFFER_BYTES, MemoryBroker
from hydra_jobs.events import JobEvent, LogEvent, RunEvent, WorkerStateEvent, wire
from hydra_jobs.models import RunStatus
from hydra_jobs.scheduler.hub import LISTENER_BUFFER_EVENTS, EventHub, Outgoing
from tests.contract.factories import make_job, make_run, make_worker

JOB = make_job()


def run_event(i: int, domain: str = "default") -> RunEvent:
    run = make_run(JOB, RunStatus.SUCCEEDED, id=f"run-{i}").summary()
    return RunEvent(run=run, domain=domain)


def run_id(out: Outgoing) -> str:
    assert isinstance(out.event, RunEvent)
    return out.event.run.id


def hub() -> EventHub:
    return EventHub(cast(Broker, None))


async def drain(listener: Any) -> list[Outgoing]:
    got: list[Outgoing] = []
    while (batch := await listener.take(10_000)) is not None:
        got += batch
    return got


async def test_a_listener_takes_what_is_queued_in_one_batch() -> None:
    events = hub()
    listener, _ = events.listen(lambda e: True)
    for i in range(10):
        events._dispatch(run_event(i))
    batch = await listener.take(100)
    assert batch is not None and [run_id(o) for o in batch] == [f"run-{i}" for i in range(10)]
    assert listener.queue.empty() and listener.queued_bytes == 0


async def test_each_event_is_encoded_once_for_every_stream() -> None:
    events = hub()
    listeners = [events.listen(lambda e: True)[0] for _ in range(3)]
    events._dispatch(run_event(1))
    taken = [await listener.take(10) for listener in listeners]
    wires = [batch[0].wire() for batch in taken if batch]
    assert len(wires) == 3 and all(w is wires[0] for w in wires)
    # As FastAPI writes a `ServerSentEvent(event=..., data=wire(event), id=...)`: byte for byte.
    data = json.dumps(wire(taken[0][0].event))  # type: ignore[index]
    assert wires[0] == f"event: run\ndata: {data}\nid: {events.epoch}-1\n\n".encode()


async def test_a_stream_cut_off_for_being_slow_resumes_with_nothing_lost_or_repeated() -> None:
    events = hub()
    slow, _ = events.listen(lambda e: True)
    total = LISTENER_BUFFER_EVENTS + 500
    for i in range(total):
        events._dispatch(run_event(i))
    assert slow.overflowed
    got = await drain(slow)  # what it held, then the end of its stream
    slow.close()
    assert 0 < len(got) < total
    # Its client reconnects with the last id it saw: the replay has the rest, in order.
    resumed, ok = events.listen(lambda e: True, got[-1].event_id)
    assert ok
    rest = await asyncio.wait_for(resumed.take(10_000), 1)
    assert rest is not None
    ids = [run_id(o) for o in got + rest]
    assert ids == [f"run-{i}" for i in range(total)]


async def test_a_gap_before_the_hub_ends_every_stream_and_resuming_gets_reset() -> None:
    events = hub()
    listener, _ = events.listen(lambda e: True)
    events._dispatch(run_event(1))
    before = events.version("default")
    last = (await listener.take(10) or [])[-1].event_id
    events.gap()
    assert await listener.take(10) is None  # the stream ends: its client reconnects
    _, resumed = events.listen(lambda e: True, last)
    assert not resumed, "a resume across lost events must be told to refetch"
    assert events.version("default") > before  # shared stats are read again


async def test_the_hub_notices_when_the_broker_cuts_its_subscription_off() -> None:
    broker = MemoryBroker()
    events = EventHub(broker)
    events.start()
    try:
        await asyncio.sleep(0.05)
        listener, _ = events.listen(lambda e: True)
        epoch = events.epoch
        # More than a subscriber may hold, published before the hub gets to read any of it.
        big = [
            LogEvent(run_id="r", offset=i, data="x" * 65536)
            for i in range(SUBSCRIBER_BUFFER_BYTES // 65536 + 10)
        ]
        await broker.publish("default", big)

        async def cut() -> None:
            while events.gaps == 0:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(cut(), 10)
        assert events.epoch != epoch
        assert await asyncio.wait_for(drain(listener), 5) is not None
        assert listener.queue.empty()
    finally:
        await events.stop()


def test_versions_count_run_job_and_worker_events_per_domain_not_logs() -> None:
    events = hub()
    events._dispatch(run_event(1, "a"))
    events._dispatch(WorkerStateEvent(worker=make_worker("w", "a"), domain="a"))
    events._dispatch(JobEvent(job_id="j", deleted=True, domain="a"))
    events._dispatch(LogEvent(run_id="r", offset=0, data="x", domain="a"))
    events._dispatch(run_event(2, "b"))
    assert (events.version("a"), events.version("b"), events.version("c")) == (3, 1, 0)


# Feeds: the streams of one domain share the matching, the encoding and the joining of events.


def fed(events: EventHub, last_event_id: str | None = None) -> Any:
    return events.listen(lambda e: e.domain == "default", last_event_id, feed="default")


async def test_fed_streams_share_one_chunk_per_linger_and_send_what_a_solo_stream_sends() -> None:
    events = EventHub(cast(Broker, None), linger=0.05)
    (a, _), (b, _) = fed(events), fed(events)
    solo, _ = events.listen(lambda e: e.domain == "default")
    for i in range(20):
        events._dispatch(run_event(i))
    events._dispatch(run_event(99, "elsewhere"))
    assert len(events.feeds) == 1 and a.queue.empty()  # lingering: nothing handed out yet

    got_a, got_b = await asyncio.wait_for(a.take(10), 2), await asyncio.wait_for(b.take(10), 2)
    assert got_a is not None and got_b is not None and len(got_a) == len(got_b) == 1
    assert got_a[0].wire() is got_b[0].wire()  # joined once, for both
    by_solo = await solo.take(100)
    assert by_solo is not None and got_a[0].wire() == b"".join(o.wire() for o in by_solo)
    assert got_a[0].event_id == by_solo[-1].event_id  # where a resume continues


async def test_a_stream_joining_mid_linger_gets_only_what_came_after_it() -> None:
    events = EventHub(cast(Broker, None), linger=0.05)
    first, _ = fed(events)
    events._dispatch(run_event(1))
    events._dispatch(run_event(2))
    resume_from = f"{events.epoch}-1"
    late, _ = fed(events)  # joins now: before run-3, in the same linger period
    resumed, ok = fed(events, resume_from)  # has run-1: gets run-2 by replay, then the feed's
    events._dispatch(run_event(3))

    def ids(batch: list[Any] | None) -> list[str]:
        assert batch is not None
        outs = [o for item in batch for o in getattr(item, "outs", [item])]
        return [run_id(o) for o in outs]

    assert ids(await asyncio.wait_for(first.take(10), 2)) == ["run-1", "run-2", "run-3"]
    assert ids(await asyncio.wait_for(late.take(10), 2)) == ["run-3"]
    assert ok
    got: list[Any] = []
    while len(ids(got)) < 2:
        got += await asyncio.wait_for(resumed.take(10), 2) or []
    assert ids(got) == ["run-2", "run-3"]


async def test_a_slow_fed_stream_is_cut_off_alone_and_the_feed_goes_with_its_last_stream() -> None:
    events = EventHub(cast(Broker, None), linger=0.01)
    slow, _ = fed(events)
    quick, _ = fed(events)
    for round_ in range(LISTENER_BUFFER_EVENTS + 10):
        events._dispatch(run_event(round_))
        events.flush_feeds()  # one chunk per event: the slow stream's queue fills
        assert await quick.take(10) is not None
    assert slow.overflowed and not quick.overflowed
    slow.close()
    quick.close()
    assert events.feeds == {} and events.listener_bytes == 0


async def test_what_a_feed_holds_goes_out_before_a_gap_ends_the_streams() -> None:
    events = EventHub(cast(Broker, None), linger=60)
    listener, _ = fed(events)
    events._dispatch(run_event(1))
    events.gap()
    batch = await asyncio.wait_for(listener.take(10), 2)
    assert batch is not None and run_id(batch[0].outs[0]) == "run-1"  # type: ignore[union-attr]
    assert await asyncio.wait_for(listener.take(10), 2) is None
