"""The broker contract, queues: the in-process and the Redis broker deliver runs alike.

Claims are atomic and bounded by the free slots (D2), per (domain, queue), in order; a claimed
run stays with its consumer until acked, and one whose consumer's lease is gone is found and
redelivered (D1, at least once); enqueue is idempotent; acks, purges and redeliveries of what is
not there are no-ops.
"""

from __future__ import annotations

import asyncio

from tests.contract.brokers import BrokerPair, run_dict


async def test_a_claim_takes_only_the_free_slots_in_order_and_ack_removes(
    brokers: BrokerPair,
) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [run_dict(f"r{i}") for i in range(5)])
    first = await work.claim("default", ["default"], "w1", 2, 0.1)
    assert [d.run_id for d in first] == ["r0", "r1"]
    assert [(d.domain, d.queue, d.run["id"]) for d in first] == [
        ("default", "default", "r0"),
        ("default", "default", "r1"),
    ]
    second = await work.claim("default", ["default"], "w2", 10, 0.1)
    assert [d.run_id for d in second] == ["r2", "r3", "r4"]
    assert await work.claim("default", ["default"], "w1", 10, 0.1) == []
    for delivery in first + second:
        await work.ack(delivery)
    await brokers.settle()
    assert await sched.orphaned_deliveries(set()) == []  # acked: held by nobody


async def test_a_blocking_claim_returns_as_soon_as_a_run_arrives(brokers: BrokerPair) -> None:
    claim = asyncio.create_task(brokers.work.claim("default", ["default"], "w1", 4, 5.0))
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await brokers.sched.enqueue("default", "default", [run_dict("r1")])
    got = await claim
    assert [d.run_id for d in got] == ["r1"] and loop.time() - start < 2.0


async def test_an_empty_claim_waits_its_timeout_and_returns_nothing(brokers: BrokerPair) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await brokers.work.claim("default", ["default"], "w1", 4, 0.3) == []
    assert loop.time() - start >= 0.25
    assert await brokers.work.claim("default", ["default"], "w1", 0, 0.0) == []


async def test_claiming_from_several_queues_never_exceeds_the_count(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "a", [run_dict(f"a{i}", queue="a") for i in range(3)])
    await sched.enqueue("default", "b", [run_dict(f"b{i}", queue="b") for i in range(3)])
    seen: list[str] = []
    for _ in range(6):
        batch = await work.claim("default", ["a", "b"], "w1", 2, 0.1)
        assert len(batch) <= 2
        seen += [d.run_id for d in batch]
    assert sorted(seen) == ["a0", "a1", "a2", "b0", "b1", "b2"]


async def test_a_claim_takes_only_from_its_domain_and_queues(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "gpu", [run_dict("gpu1", queue="gpu")])
    await sched.enqueue("other", "default", [run_dict("o1", domain="other")])
    await sched.enqueue("default", "default", [run_dict("d1")])
    got = await work.claim("default", ["default"], "w1", 10, 0.1)
    assert [d.run_id for d in got] == ["d1"]
    other = await brokers.worker("other")
    assert [d.run_id for d in await other.claim("other", ["default"], "w2", 10, 0.1)] == ["o1"]
    assert [d.run_id for d in await work.claim("default", ["gpu"], "w1", 10, 0.1)] == ["gpu1"]


async def test_enqueue_is_idempotent_until_the_run_is_forgotten(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [run_dict("r1")])
    await sched.enqueue("default", "default", [run_dict("r1"), run_dict("r2")])
    assert await sched.absent_runs(["r1", "r2", "r3"]) == {"r3"}
    got = await work.claim("default", ["default"], "w1", 10, 0.1)
    assert sorted(d.run_id for d in got) == ["r1", "r2"]
    await sched.enqueue("default", "default", [run_dict("r1")])  # claimed, not ended: skipped
    for delivery in got:
        await work.ack(delivery)
    await brokers.settle()
    await sched.enqueue("default", "default", [run_dict("r1")])  # acked, not forgotten: skipped
    assert await work.claim("default", ["default"], "w1", 10, 0.1) == []
    await sched.forget_runs(["r1"])
    assert await sched.absent_runs(["r1", "r2"]) == {"r1"}
    await sched.enqueue("default", "default", [run_dict("r1")])  # a retry of the same id
    assert [d.run_id for d in await work.claim("default", ["default"], "w1", 10, 0.1)] == ["r1"]


async def test_purge_removes_a_queued_or_claimed_run(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [run_dict("r1"), run_dict("r2"), run_dict("r3")])
    await sched.purge_run("default", "default", "r1")
    [claimed] = await work.claim("default", ["default"], "w1", 1, 0.1)
    assert claimed.run_id == "r2"
    # A cancelled run its worker had claimed: gone from the queue and from the worker's hold,
    # so a dead worker's orphans never bring it back.
    await sched.purge_run("default", "default", "r2")
    assert await sched.absent_runs(["r1", "r2", "r3"]) == {"r1", "r2"}
    assert await sched.orphaned_deliveries(set()) == []
    assert [d.run_id for d in await work.claim("default", ["default"], "w1", 10, 0.1)] == ["r3"]


async def test_a_dead_consumers_deliveries_are_found_and_redelivered_once(
    brokers: BrokerPair,
) -> None:
    """D1: claimed, never acked, its worker's lease gone: found, and claimable again."""
    sched, work = brokers.sched, brokers.work
    await work.renew_worker_lease("ghost", 10)
    await work.renew_worker_lease("alive", 10)
    await sched.enqueue("default", "default", [run_dict("r1"), run_dict("r2")])
    assert len(await work.claim("default", ["default"], "ghost", 1, 0.1)) == 1
    assert len(await work.claim("default", ["default"], "alive", 1, 0.1)) == 1
    await work.drop_worker_lease("ghost")
    live = await sched.live_workers()
    assert live == {"alive"}
    [orphan] = await sched.orphaned_deliveries(live)
    assert (orphan.run_id, orphan.domain, orphan.queue) == ("r1", "default", "default")
    await sched.redeliver(orphan)
    await sched.redeliver(orphan)  # twice: still one delivery
    again = await work.claim("default", ["default"], "other", 5, 0.1)
    assert [d.run_id for d in again] == ["r1"]
    assert await sched.orphaned_deliveries({"alive", "other"}) == []


async def test_a_redelivered_run_goes_behind_the_runs_queued_meanwhile(
    brokers: BrokerPair,
) -> None:
    """Both brokers alike (a Redis stream can only append): see `Broker.redeliver`."""
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [run_dict("r1")])
    [held] = await work.claim("default", ["default"], "w1", 1, 0.1)
    await sched.enqueue("default", "default", [run_dict("r2")])
    await work.redeliver(held)
    got = await work.claim("default", ["default"], "w2", 10, 0.1)
    assert [d.run_id for d in got] == ["r2", "r1"]


async def test_acks_purges_and_redeliveries_of_what_is_not_there_are_no_ops(
    brokers: BrokerPair,
) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [run_dict("r1")])
    [delivery] = await work.claim("default", ["default"], "w1", 1, 0.1)
    await work.ack(delivery)
    await brokers.settle()
    await work.ack(delivery)  # again
    await work.redeliver(delivery)  # acked: not put back
    await sched.purge_run("default", "default", "nope")
    await sched.forget_runs(["nope"])
    await brokers.settle()
    assert await work.claim("default", ["default"], "w2", 10, 0.1) == []
    assert await sched.absent_runs(["nope"]) == {"nope"}
    assert await sched.orphaned_deliveries(set()) == []
