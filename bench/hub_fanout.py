"""The live hub's cost per event with many open streams, in CPU time (no network, no browser).

    .venv/bin/python bench/hub_fanout.py [--events 3000] [--streams 0,50,200]

Streams are the `GET /events` stream code (`routes/events.py: _stream`) reading from a real
`EventHub`; events are run changes of one domain, dispatched in batches of 20 as the broker hands
them over. Printed: CPU microseconds per event, with every stream fed through the domain's shared
feed (as the server does) and with each stream matched and queued on its own (as before feeds).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import cast

from hydra_jobs.broker.base import Broker
from hydra_jobs.events import RunEvent
from hydra_jobs.models import RunSummary
from hydra_jobs.scheduler.api.routes.events import _stream
from hydra_jobs.scheduler.hub import EventHub

STATUSES = ("queued", "running", "succeeded")


class NeverRevoked:
    async def revoked(self) -> bool:
        return False


def run_event(i: int) -> RunEvent:
    run = RunSummary.model_validate(
        {
            "id": f"run-{i // 3:08d}",
            "job_id": "job",
            "job_name": "true",
            "domain": "default",
            "queue": "default",
            "status": STATUSES[i % 3],
            "trigger": "api",
            "created_at": datetime.now(UTC),
            "attempt": 1,
            "params": {},
        }
    )
    return RunEvent(run=run, domain="default")


async def cpu_per_event(streams: int, count: int, fed: bool) -> float:
    hub = EventHub(cast(Broker, None))
    events = [run_event(i) for i in range(count)]
    received = 0

    async def stream() -> None:
        nonlocal received
        listener, _ = hub.listen(
            lambda e: e.domain == "default", None, ("default",) if fed else None
        )
        async for chunk in _stream(listener, NeverRevoked(), b""):  # type: ignore[arg-type]
            received += chunk.count(b"\nid: ")

    tasks = [asyncio.create_task(stream()) for _ in range(streams)]
    await asyncio.sleep(0.05)
    start = time.process_time()
    for i in range(0, count, 20):
        for event in events[i : i + 20]:
            hub._dispatch(event)
        await asyncio.sleep(0)
    while received < count * streams:
        if any(listener.overflowed for listener in hub.listeners):
            raise SystemExit("a stream was cut off: lower --events")
        await asyncio.sleep(0.01)
    spent = time.process_time() - start
    hub.end_streams()
    await asyncio.gather(*tasks)
    return spent * 1e6 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--streams", default="0,50,200")
    args = parser.parse_args()
    print(f"{args.events:,} run events; CPU us per event, median of 3")
    print(f"{'streams':>8} {'shared feed':>12} {'one by one':>11}")
    for n in (int(x) for x in args.streams.split(",")):
        fed = statistics.median(asyncio.run(cpu_per_event(n, args.events, True)) for _ in range(3))
        solo = statistics.median(
            asyncio.run(cpu_per_event(n, args.events, False)) for _ in range(3)
        )
        print(f"{n:>8} {fed:>12.1f} {solo:>11.1f}")


if __name__ == "__main__":
    main()
