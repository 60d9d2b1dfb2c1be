"""Routing by worker tags on the Redis broker (real redis-server): one stream per requirement,
read only by workers whose tags satisfy it; a run nobody can take stays on its stream (not lost,
found again after a worker dies); a signed entry moved onto another route's stream is dropped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hydra_jobs.broker.redis.broker import RedisBroker
from hydra_jobs.routing import route_key
from tests.keys import TokenRegistry
from tests.redis_server import RedisServer


def run_dict(run_id: str, requires: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"requires": requires} if requires else {}
    return {"id": run_id, "domain": "default", "queue": "default", "spec": spec, "attempt": 1}


@pytest.fixture
async def brokers(redis_server: RedisServer) -> AsyncIterator[tuple[RedisBroker, RedisBroker]]:
    redis_server.flush()
    tokens = TokenRegistry()
    sched = RedisBroker(redis_server.url, tokens.scheduler_keys(), lease_grace_seconds=0.0)
    work = RedisBroker(redis_server.url, tokens.worker_keys("default"))
    await sched.start()
    await work.start()
    yield sched, work
    await work.close()
    await sched.close()


LINUX = {"os": "linux"}
WINDOWS_GPU = {"os": "windows", "gpu": "true"}


async def test_a_worker_claims_only_the_routes_its_tags_satisfy(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    sched, work = brokers
    await sched.enqueue(
        "default",
        "default",
        [
            run_dict("plain"),
            run_dict("win", {"os": "windows", "gpu": True}),
            run_dict("either", {"os": ["linux", "windows"]}),
        ],
    )
    got = await work.claim("default", ["default"], "linux-1", 10, 0.2, LINUX)
    assert sorted(d.run_id for d in got) == ["either", "plain"]
    assert await work.claim("default", ["default"], "linux-1", 10, 0.2, LINUX) == []
    assert await sched.absent_runs(["win"]) == set()  # held on its stream: not lost
    win = await work.claim("default", ["default"], "win-1", 10, 0.2, WINDOWS_GPU)
    assert [d.run_id for d in win] == ["win"]
    stream = sched.keys.queue("default", "default", route_key({"os": "windows", "gpu": True}))
    assert win[0].receipt.startswith(stream + "\n")


async def test_an_unclaimable_runs_delivery_of_a_dead_worker_goes_back_to_its_route(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    sched, work = brokers
    await sched.enqueue("default", "default", [run_dict("win", {"os": "windows"})])
    [_taken] = await work.claim("default", ["default"], "win-dead", 1, 0.2, {"os": "windows"})
    [orphan] = await sched.orphaned_deliveries(live=set())
    assert orphan.run_id == "win" and not orphan.started
    await sched.redeliver(orphan)
    assert await work.claim("default", ["default"], "linux-1", 1, 0.2, LINUX) == []
    [again] = await work.claim("default", ["default"], "win-2", 1, 0.2, {"os": "windows"})
    assert again.run_id == "win"


async def test_a_signed_entry_moved_to_a_route_it_does_not_require_is_dropped(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    sched, work = brokers
    await sched.enqueue("default", "default", [run_dict("win", {"os": "windows"})])
    routed = sched.keys.queue("default", "default", route_key({"os": "windows"}))
    [(_entry_id, fields)] = await sched.client.xrange(routed)
    # Someone with Redis access copies the genuine, signed entry onto the unrouted stream.
    await sched.client.xadd(sched.keys.queue("default", "default"), fields)
    assert json.loads(fields[b"p"])["spec"]["requires"] == {"os": "windows"}
    assert await work.claim("default", ["default"], "linux-1", 5, 0.2, LINUX) == []
    assert work.forged == 1
