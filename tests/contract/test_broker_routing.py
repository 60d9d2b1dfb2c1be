"""The broker contract, routing by worker tags (D7): both brokers hand a run whose job `requires`
tags only to a claim whose tags satisfy them (a list is any of its values), keep it meanwhile
(not lost: held, and recovered from a dead consumer onto its own route), and serve routes in turn.
"""

from __future__ import annotations

from typing import Any

from tests.contract.brokers import BrokerPair, run_dict


def routed(run_id: str, requires: dict[str, Any]) -> dict[str, Any]:
    return {**run_dict(run_id), "spec": {"requires": requires}}


LINUX = {"os": "linux"}
WINDOWS = {"os": "windows", "gpu": "true"}


async def test_a_run_goes_only_to_a_claim_whose_tags_satisfy_it(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue(
        "default",
        "default",
        [
            run_dict("plain"),
            routed("win", {"os": "windows", "gpu": True}),
            routed("either", {"os": ["linux", "windows"]}),
        ],
    )
    got = await work.claim("default", ["default"], "linux-1", 10, 0.2, LINUX)
    assert sorted(d.run_id for d in got) == ["either", "plain"]
    assert await work.claim("default", ["default"], "linux-1", 10, 0.2, LINUX) == []
    assert await work.claim("default", ["default"], "untagged", 10, 0.2) == []
    assert await sched.absent_runs(["win"]) == set()  # held: not lost
    win = await work.claim("default", ["default"], "win-1", 10, 0.2, WINDOWS)
    assert [d.run_id for d in win] == ["win"]


async def test_a_dead_consumers_routed_delivery_goes_back_to_its_route(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [routed("win", {"os": "windows"})])
    [taken] = await work.claim("default", ["default"], "win-dead", 1, 0.2, {"os": "windows"})
    await brokers.settle()
    [orphan] = await sched.orphaned_deliveries(set())
    assert orphan.run_id == taken.run_id == "win" and not orphan.started
    await sched.redeliver(orphan)
    assert await work.claim("default", ["default"], "linux-1", 1, 0.2, LINUX) == []
    [again] = await work.claim("default", ["default"], "win-2", 1, 0.2, {"os": "windows"})
    assert again.run_id == "win"


async def test_routes_are_served_in_turn(brokers: BrokerPair) -> None:
    sched, work = brokers.sched, brokers.work
    await sched.enqueue("default", "default", [routed(f"a{i}", {"os": "linux"}) for i in range(4)])
    await sched.enqueue("default", "default", [run_dict(f"b{i}") for i in range(4)])
    order = ""
    for _ in range(4):
        batch = await work.claim("default", ["default"], "w", 1, 0.2, LINUX)
        order += "".join(d.run_id[0] for d in batch)
    assert sorted(order) == ["a", "a", "b", "b"], order  # two of each, not four of one
