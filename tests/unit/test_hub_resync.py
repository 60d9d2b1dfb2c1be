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
