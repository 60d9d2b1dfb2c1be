"""Routing by worker tags: the requirement rules, the canonical route, why a run waits, and the
in-process broker's queues per route (a run waits for a worker that satisfies it, none starves)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.routing import (
    parse_route_key,
    parse_worker_tags,
    route_key,
    route_of,
    satisfies,
    waiting_reason,
)


def spec(requires: Any) -> JobSpec:
    return JobSpec.model_validate(
        {"name": "j", "executor": {"type": "shell", "script": "true"}, "requires": requires}
    )


def test_values_match_the_workers_tag_text_and_lists_mean_any_of() -> None:
    route = route_of({"os": "windows", "gpu": True, "cores": 8, "arch": ["arm64", "x86_64"]})
    assert satisfies({"os": "windows", "gpu": "true", "cores": "8", "arch": "x86_64"}, route)
    assert satisfies(
        {"os": "windows", "gpu": "true", "cores": "8", "arch": "arm64", "x": "y"}, route
    )
    assert not satisfies({"os": "windows", "gpu": "false", "cores": "8", "arch": "arm64"}, route)
    assert not satisfies({"os": "windows", "gpu": "true", "arch": "arm64"}, route)  # no cores
    assert satisfies({}, route_of({}))
    assert route_of({"n": 2.0}) == route_of({"n": 2}) == (("n", ("2",)),)


def test_the_route_key_is_canonical_and_reads_back() -> None:
    a = route_key({"os": "linux", "arch": ["x86_64", "arm64"], "gpu": True})
    b = route_key({"gpu": True, "arch": ["arm64", "x86_64", "arm64"], "os": "linux"})
    assert a == b == '{"arch":["arm64","x86_64"],"gpu":["true"],"os":["linux"]}'
    assert parse_route_key(a) == route_of(
        {"os": "linux", "arch": ["arm64", "x86_64"], "gpu": 1 == 1}
    )
    assert route_key({}) == "" and parse_route_key("") == ()
    assert parse_route_key("not json") is None and parse_route_key('{"a": 1}') is None


def test_worker_tags_parse_and_a_bare_name_means_true() -> None:
    assert parse_worker_tags(" os=linux , gpu, zone=eu=1,,") == {
        "os": "linux",
        "gpu": "true",
        "zone": "eu=1",
    }


@pytest.mark.parametrize(
    ("requires", "where", "says"),
    [
        ({f"k{i}": "v" for i in range(17)}, ("requires",), "at most 16"),
        ({"bad key": "v"}, ("requires",), "not a valid tag name"),
        ({"os": "a,b"}, ("requires",), "may not contain"),
        ({"os": "x" * 129}, ("requires",), "1 to 128"),
        ({"os": []}, ("requires",), "1 to 16 values"),
        ({"os": ["v"] * 17}, ("requires",), "1 to 16 values"),
        ({"os": {"nested": 1}}, ("requires", "os"), ""),
        ({"os": None}, ("requires", "os"), ""),
    ],
)
def test_bad_requirements_are_refused_naming_the_field(
    requires: Any, where: tuple[str, ...], says: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        spec(requires)
    errors = caught.value.errors()
    assert any(tuple(e["loc"][: len(where)]) == where and says in e["msg"] for e in errors), errors


def test_good_requirements_keep_their_json_types() -> None:
    got = spec({"os": "windows", "gpu": True, "n": 2, "arch": ["x86_64", 1.5]}).requires
    assert got == {"os": "windows", "gpu": True, "n": 2, "arch": ["x86_64", 1.5]}
    assert isinstance(got["gpu"], bool) and isinstance(got["n"], int)


def worker(tags: dict[str, str], queues: tuple[str, ...] = ("default",), status: str = "online"):  # type: ignore[no-untyped-def]
    return SimpleNamespace(tags=tags, queues=list(queues), status=status)


def test_the_waiting_reason_names_what_no_online_worker_has() -> None:
    linux = worker({"os": "linux", "gpu": "true"})
    assert waiting_reason("prod", "default", {}, []) == "no online worker in domain prod"
    gone = worker({"os": "windows"}, status="offline")
    assert waiting_reason("prod", "default", {"os": "windows"}, [gone]) == (
        "no online worker in domain prod"
    )
    assert waiting_reason("prod", "gpu", {}, [linux]) == (
        "no online worker in domain prod reads queue gpu"
    )
    assert waiting_reason("prod", "default", {"os": "windows", "gpu": True}, [linux]) == (
        "no online worker in domain prod has os=windows"
    )
    win = worker({"os": "windows"})
    assert waiting_reason("prod", "default", {"os": "windows", "gpu": True}, [linux, win]) == (
        "no online worker in domain prod has all of gpu=true, os=windows"
    )
    assert waiting_reason("prod", "default", {"os": ["windows", "linux"]}, [linux]) is None
    assert waiting_reason("prod", "default", {}, [linux]) is None


def test_drained_workers_are_named_as_the_reason() -> None:
    """'no online worker' beside a worker listed as draining sent a new user looking for a crash."""
    draining = worker({}, status="draining")
    assert waiting_reason("prod", "default", {}, [draining, worker({}, status="offline")]) == (
        "no online worker in domain prod: its only worker is draining (a drained worker takes "
        "no new run until it is restarted)"
    )
    assert "its 2 workers are draining" in (
        waiting_reason("prod", "default", {}, [draining, draining]) or ""
    )
    assert waiting_reason("prod", "default", {}, [draining, worker({})]) is None


def run(run_id: str, requires: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": run_id, "spec": {"requires": requires or {}}}


async def test_memory_broker_gives_a_run_only_to_a_worker_that_satisfies_it() -> None:
    broker = MemoryBroker()
    await broker.enqueue("d", "default", [run("win", {"os": "windows"}), run("any")])
    linux = await broker.claim("d", ["default"], "w1", 10, 0, {"os": "linux"})
    assert [d.run_id for d in linux] == ["any"]
    assert await broker.claim("d", ["default"], "w1", 10, 0.05, {"os": "linux"}) == []
    assert await broker.absent_runs(["win"]) == set()  # still held: not lost
    windows = await broker.claim("d", ["default"], "w2", 10, 0, {"os": "windows"})
    assert [d.run_id for d in windows] == ["win"]
    await broker.redeliver(windows[0])  # back on its own route's queue
    assert await broker.claim("d", ["default"], "w1", 10, 0, {"os": "linux"}) == []
    again = await broker.claim("*", ["default"], "w3", 10, 0, {"os": "windows"})
    assert [d.run_id for d in again] == ["win"]


async def test_memory_broker_wakes_a_waiting_worker_only_for_its_route() -> None:
    import asyncio

    broker = MemoryBroker()
    waiting = asyncio.create_task(broker.claim("d", ["default"], "w", 1, 5.0, {"os": "windows"}))
    await asyncio.sleep(0.05)
    await broker.enqueue("d", "default", [run("other", {"os": "linux"})])
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await broker.enqueue("d", "default", [run("mine", {"os": "windows"})])
    assert [d.run_id for d in await asyncio.wait_for(waiting, 5)] == ["mine"]


async def test_memory_broker_serves_routes_in_turn() -> None:
    broker = MemoryBroker()
    await broker.enqueue("d", "default", [run(f"a{i}", {"os": "linux"}) for i in range(3)])
    await broker.enqueue("d", "default", [run(f"b{i}") for i in range(3)])
    order = []
    for _ in range(6):
        [d] = await broker.claim("d", ["default"], "w", 1, 0, {"os": "linux"})
        order.append(d.run_id[0])
    assert order.count("a") == 3 and "aaa" not in "".join(order) and "bbb" not in "".join(order)
