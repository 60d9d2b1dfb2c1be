"""The in-process broker holds a bounded amount of worker output (issue 13 §4)."""

from __future__ import annotations

import asyncio

from hydra_jobs.broker.memory import EVENTS_HIGH_WATER_BYTES, SUBSCRIBER_BUFFER_BYTES, MemoryBroker
from hydra_jobs.events import Heartbeat, LiveEvent, LogEvent, Output
from tests.contract.factories import make_worker

MIB = 1024 * 1024


def output(i: int) -> Output:
    return Output(run_id="r", worker_id="w", offset=i * MIB, data="x" * MIB)


def log_event(i: int) -> LogEvent:
    return LogEvent(run_id="r", offset=i * MIB, data="x" * MIB)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_output_waits_past_the_high_water_mark_and_nothing_else_does() -> None:
    broker = MemoryBroker()
    n = EVENTS_HIGH_WATER_BYTES // MIB
    for i in range(n - 1):
        await broker.emit([output(i)])
    flooding = asyncio.create_task(broker.emit([output(n)]))
    await settle()
    assert not flooding.done(), "output went on past the high-water mark"
    # A heartbeat or a run's end is never held behind the flood.
    await asyncio.wait_for(broker.emit([Heartbeat(worker=make_worker("w"))]), 1)
    read = 0
    while not flooding.done():
        read += len(await broker.read_events(4, 0))
        await settle()
    assert read < n  # released once ingest caught up to the low-water mark, not at empty
    assert len(await broker.read_events(1000, 0)) == n + 1 - read


async def test_a_live_subscriber_that_falls_behind_is_cut_off_by_bytes_too() -> None:
    broker = MemoryBroker()
    sub = broker.subscribe(None)
    too_much = SUBSCRIBER_BUFFER_BYTES // MIB * 2
    await broker.publish("default", [log_event(i) for i in range(too_much)])

    async def drain() -> list[LiveEvent]:
        return [event async for event in sub]

    # Its stream ends (what it held is dropped; live events are hints, the store has them all).
    assert await asyncio.wait_for(drain(), 5) == []
