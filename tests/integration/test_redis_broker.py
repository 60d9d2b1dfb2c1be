"""The Redis broker against a real redis-server: claiming, recovery, leases, signing (A4).

These drive `RedisBroker` directly, the way the scheduler and the worker do; the fault tests in
tests/faults/ then check the same properties with real processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from hydra_jobs.broker.redis.broker import RedisBroker
from hydra_jobs.broker.redis.buffered_io import Outbox, OutboxItem
from hydra_jobs.broker.signing import SchedulerKeys, WorkerKeys, frame, ticket
from hydra_jobs.errors import BackendUnavailable, ConfigError
from hydra_jobs.events import Abort, Cancel, Drain, RunEvent, WorkerEvent, parse_worker_event
from hydra_jobs.worker.credentials import WorkerCredentials
from tests.conftest import ADMIN, free_port
from tests.contract.factories import make_job, make_run
from tests.keys import TokenRegistry
from tests.redis_server import RedisServer


def run_dict(run_id: str, domain: str = "default", queue: str = "default") -> dict[str, Any]:
    return {"id": run_id, "domain": domain, "queue": queue, "spec": {}, "attempt": 1}


def ev(**fields: Any) -> WorkerEvent:
    return parse_worker_event(fields)


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def tokens() -> TokenRegistry:
    return TokenRegistry()


@pytest.fixture
async def brokers(
    redis_url: str, tokens: TokenRegistry
) -> AsyncIterator[tuple[RedisBroker, RedisBroker]]:
    """(scheduler broker, worker broker of domain `default`)."""
    sched = RedisBroker(redis_url, tokens.scheduler_keys(), lease_grace_seconds=0.0)
    work = RedisBroker(redis_url, tokens.worker_keys("default"))
    await sched.start()
    await work.start()
    yield sched, work
    await work.close()
    await sched.close()


async def test_claim_takes_only_the_free_slots_and_ack_removes(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    sched, work = brokers
    await sched.enqueue("default", "default", [run_dict(f"r{i}") for i in range(5)])
    first = await work.claim("default", ["default"], "w1", 2, 0.1)
    assert [d.run_id for d in first] == ["r0", "r1"]
    second = await work.claim("default", ["default"], "w2", 10, 0.1)
    assert [d.run_id for d in second] == ["r2", "r3", "r4"]
    assert await work.claim("default", ["default"], "w1", 10, 0.1) == []
    for delivery in first + second:
        await work.ack(delivery)
    await work._outbox.flush(5)
    assert await sched.client.xlen(sched.keys.queue("default", "default")) == 0


async def test_boot_id_detects_a_flush_and_the_lease_view_waits(redis_url: str) -> None:
    broker = RedisBroker(redis_url, SchedulerKeys(ADMIN), lease_grace_seconds=0.5)
    await broker.start()
    try:
        assert await broker.check_boot()  # the first process on an empty Redis
        assert not await broker.check_boot()
        with pytest.raises(BackendUnavailable):
            await broker.live_workers()
        await asyncio.sleep(0.5)
        assert await broker.live_workers() == set()
        await broker.client.flushall()
        assert await broker.check_boot()
        with pytest.raises(BackendUnavailable):
            await broker.live_workers()
    finally:
        await broker.close()


async def test_control_markers_are_polled_and_forged_ones_ignored(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    sched, work = brokers
    await sched.request_cancel("default", "r1")
    await sched.send_control("default", Abort(run_id="r2", worker_id="w1"))
    await sched.send_control("default", Drain(worker_id="w1"))
    await work.client.set(work.keys.cancel("r3"), "default\nnot-a-signature")
    found = await work.poll_control("default", "w1", ["r1", "r2", "r3"])
    assert Cancel(run_id="r1") in found
    assert Abort(run_id="r2", worker_id="w1") in found
    assert Drain(worker_id="w1") in found
    assert len(found) == 3
    assert await work.poll_control("default", "w2", ["r2"]) == []  # the abort was for w1
    # A drain signed for another domain's worker of the same id is not this worker's.
    await sched.send_control("other", Drain(worker_id="w9"))
    assert await work.poll_control("default", "w9", []) == []
    assert await work.is_cancel_requested("r1")
    assert not await work.is_cancel_requested("r3")


async def test_live_fan_out_reaches_every_subscriber_and_drops_forgeries(
    brokers: tuple[RedisBroker, RedisBroker], redis_url: str
) -> None:
    sched, _ = brokers
    other = RedisBroker(redis_url, SchedulerKeys(ADMIN))
    await other.start()
    subs = [sched.subscribe(None), other.subscribe("default")]
    try:
        for sub in subs:
            await asyncio.wait_for(sub.subscribed.wait(), 5)
        forged = json.dumps({"d": "default", "p": "[]", "s": "00"})
        await sched.client.publish(sched.keys.live, forged)
        run = make_run(make_job())
        await sched.publish("default", [RunEvent.of(run)])
        for sub in subs:
            event = await asyncio.wait_for(anext(aiter(sub)), 5)
            assert event == RunEvent(run=run.summary(), domain="default")
        assert sched.forged + other.forged >= 1
    finally:
        for sub in subs:
            await sub.close()
        await other.close()


async def _raw_entry(url: str, stream: str, fields: dict[str, Any]) -> None:
    client = aioredis.Redis.from_url(url)
    await client.xadd(stream, fields)
    await client.aclose()


async def test_forged_queue_entries_are_dropped_and_never_returned(
    brokers: tuple[RedisBroker, RedisBroker], redis_url: str
) -> None:
    """A4 at the broker level: unsigned, badly signed, other-domain, replayed elsewhere."""
    sched, work = brokers
    stream = sched.keys.queue("default", "default")
    evil = json.dumps(run_dict("evil")).encode()
    impostor = SchedulerKeys("guessed-" + "x" * 32)  # signs, but with the wrong key pair
    await _raw_entry(redis_url, stream, {"r": "evil", "p": evil})
    await _raw_entry(redis_url, stream, {"r": "evil", "p": evil, "s": "ab" * 64, "t": ""})
    wrong = impostor.sign_down(frame("d", "default|default|", evil))
    await _raw_entry(redis_url, stream, {"r": "evil", "p": evil, "s": wrong, "t": ""})
    # A genuine delivery of queue `gpu`, copied into queue `default`:
    await sched.enqueue("default", "gpu", [run_dict("legit", queue="gpu")])
    raw = aioredis.Redis.from_url(redis_url)
    [(_, fields)] = await raw.xrange(sched.keys.queue("default", "gpu"))
    await raw.xadd(stream, fields)
    await raw.aclose()
    await sched.enqueue("default", "default", [run_dict("good")])
    got = await work.claim("default", ["default"], "w1", 10, 0.1)
    assert [d.run_id for d in got] == ["good"]
    assert work.forged == 4
    assert await sched.client.xlen(stream) == 1  # the forgeries are gone, `good` is pending


async def test_events_verify_domain_and_ticket(
    brokers: tuple[RedisBroker, RedisBroker], redis_url: str, tokens: TokenRegistry
) -> None:
    """A worker may only report on runs handed to its domain; forged events are dropped."""
    sched, work = brokers
    intruder = RedisBroker(redis_url, tokens.worker_keys("other"))
    await intruder.start()
    try:
        await sched.enqueue("default", "default", [run_dict("r1")])
        [delivery] = await work.claim("default", ["default"], "w1", 1, 0.1)
        base = {"run_id": "r1", "worker_id": "w1", "at": "2026-01-01T00:00:00+00:00"}
        await work.emit([ev(**base, domain="default", type="started", pid=1)])
        # The intruder (domain `other`) reports on r1 under its own domain: no ticket.
        await intruder.emit([ev(**base, domain="other", type="finished", status="failed")])
        await _raw_entry(redis_url, sched.keys.events, {"d": "default", "p": "{}", "s": "00"})
        await work._outbox.flush(5)
        await intruder._outbox.flush(5)
        events = await sched.read_events(100, 0.5)
        assert [(e.event.type, e.event.domain) for e in events] == [("started", "default")]
        assert sched.forged == 2
        await sched.ack_events(events)
        assert await sched.read_events(100, 0.1) == []
        await work.ack(delivery)
    finally:
        await intruder.close()


async def test_a_signed_but_malformed_event_is_dropped_and_acked_not_raised(
    brokers: tuple[RedisBroker, RedisBroker],
) -> None:
    """Signed with a valid key and ticket, but not shaped like an event (a worker's bug, or a
    newer kind): ingest never sees it, the events after it still arrive, and it is not read
    again."""
    sched, _ = brokers
    assert isinstance(sched.ring, SchedulerKeys)
    tk = ticket(sched.ring.scheduler_key, "default", "r1")
    base = {"domain": "default", "run_id": "r1", "worker_id": "w1", "tk": tk}
    bodies = [
        {**base, "type": "finished", "status": "exploded", "at": "2026-01-01T00:00:00+00:00"},
        {**base, "type": "output", "offset": "not a number", "data": "x"},
        {**base, "type": "output", "offset": 0, "data": "fine"},
    ]
    for body in bodies:
        payload = json.dumps(body).encode()
        key_id, mac = sched.ring.sign_up(frame("e", "default", payload))
        fields = {"d": "default", "p": payload, "k": key_id, "s": mac}
        await sched.client.xadd(sched.keys.events, fields)  # type: ignore[arg-type]
    events = await sched.read_events(100, 0.5)
    assert [e.event for e in events] == [ev(**base, type="output", offset=0, data="fine")]
    await sched.ack_events(events)
    assert await sched.client.xlen(sched.keys.events) == 0  # the malformed two were acked too
    assert await sched.read_events(100, 0.1) == []


async def test_a_revoked_tokens_events_are_refused_and_credentials_are_checked(
    brokers: tuple[RedisBroker, RedisBroker], redis_url: str, tokens: TokenRegistry
) -> None:
    """Up-messages name their token: revoked (or another domain's) ones are dropped."""
    sched, work = brokers
    assert isinstance(work.ring, WorkerKeys)
    token_id = work.ring.token_id
    await sched.enqueue("default", "default", [run_dict("r1"), run_dict("r2")])
    deliveries = await work.claim("default", ["default"], "w1", 2, 0.1)
    assert [d.run_id for d in deliveries] == ["r1", "r2"]
    base = {"worker_id": "w1", "at": "2026-01-01T00:00:00+00:00", "domain": "default"}
    await work.emit([ev(**base, run_id="r1", type="started", pid=1)])
    await work._outbox.flush(5)
    assert [e.event.run_id for e in await sched.read_events(100, 0.5)] == ["r1"]  # type: ignore[union-attr]
    # Revoked in the store: at most TOKEN_CACHE_SECONDS later its events no longer verify.
    record = tokens.records[token_id]
    tokens.records[token_id] = dataclasses.replace(record, revoked_at=record.created_at)
    assert isinstance(sched.ring, SchedulerKeys)
    sched.ring.forget_token(token_id)
    await work.emit([ev(**base, run_id="r2", type="started", pid=2)])
    await work._outbox.flush(5)
    forged_before = sched.forged
    assert await sched.read_events(100, 0.5) == []
    assert sched.forged == forged_before + 1
    # A worker key of domain `other` signing an event that claims domain `default`:
    other = tokens.worker_keys("other")
    body = json.dumps({**base, "run_id": "r1", "type": "finished"}).encode()
    key_id, mac = other.sign_up(frame("e", "default", body))
    await _raw_entry(
        redis_url, sched.keys.events, {"d": "default", "p": body, "k": key_id, "s": mac}
    )
    assert await sched.read_events(100, 0.5) == []


async def test_workers_learn_the_public_key_only_from_a_credential_made_for_their_token(
    redis_url: str, tokens: TokenRegistry
) -> None:
    sched_keys = tokens.scheduler_keys()
    sched = RedisBroker(redis_url, sched_keys)
    await sched.start()
    try:
        keys = tokens.worker_keys("default")
        keys.public_key = None
        record = tokens.records[keys.token_id]
        worker = WorkerCredentials(sched, keys)
        with pytest.raises(ConfigError, match="no scheduler has published"):
            await worker.establish(0.2)
        # A credential forged by someone who can write to Redis but does not know the token:
        forged = json.dumps({"domain": "default", "pub": "ab" * 32, "mac": "00" * 32}).encode()
        await sched.put_credentials({keys.token_id: forged}, complete=True)
        with pytest.raises(ConfigError, match="secret does not match"):
            await worker.establish(0.2)
        await sched.put_credentials({keys.token_id: sched_keys.credential(record)}, complete=True)
        await worker.establish(0.2)
        assert keys.public_key == sched_keys.public_key
        assert await worker.still_valid()
        await sched.drop_credentials([keys.token_id])
        assert not await worker.still_valid()  # the set is complete and it is gone: revoked
        with pytest.raises(ConfigError, match="unknown or was revoked"):
            await worker.establish(0.2)
    finally:
        await sched.close()


async def test_the_outbox_holds_a_bounded_amount_of_output_while_redis_is_away(
    redis_url: str,
) -> None:
    """Issue 13 §4: output events are up to 64 KiB; 20,000 queued ones were 1.3 GB."""
    chunk = "x" * 1024 * 1024
    items: list[OutboxItem] = [("xadd", "outbox-test", {"d": chunk}) for _ in range(40)]
    away = aioredis.Redis(port=free_port())  # nothing listens there
    outbox = Outbox(away)
    outbox.start()
    put = asyncio.create_task(outbox.put(items))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not put.done(), "40 MiB queued and the producer was not held"
    put.cancel()
    await outbox.close()
    await away.aclose()
    # With Redis there, the same burst goes through: held only until enough was sent.
    client = aioredis.from_url(redis_url)
    outbox = Outbox(client)
    outbox.start()
    await asyncio.wait_for(outbox.put(items), 30)
    assert await outbox.flush(30)
    assert await client.xlen("outbox-test") == 40
    await outbox.close()
    await client.aclose()
