"""Broker faults in distributed mode: Redis killed and restarted empty, pub/sub cut, forgeries.

St1 the store is the source of truth; St2 a cancel lands with pub/sub dead; St3 a fleet comes back
after a 30 s outage with bounded connections; St4 completion racing timeout ends once (1000x);
A4 forged queue entries and events run nothing.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from hydra_jobs.broker.signing import SchedulerKeys, frame, ticket
from hydra_jobs.client import ApiError
from tests.cluster import Cluster, all_runs, chain_outcomes
from tests.conftest import ADMIN, TERMINAL, wait_for
from tests.live_recorder import LiveRecorder

QUEUE = "hydra:q:default:default"


def statuses(client: Any, run_ids: list[str]) -> list[str]:
    return [client.get_run(r)["status"] for r in run_ids]


def test_st1_redis_restarted_empty_loses_nothing(cluster: Cluster) -> None:
    scheduler = cluster.scheduler()
    cluster.worker("w", 1)
    client = cluster.client()
    slow = client.create_job(
        {
            "name": "slow",
            "executor": {"type": "shell", "script": "sleep 3; echo slow-done"},
            "retries": {"max_attempts": 3, "backoff_seconds": 0},
        }
    )
    quick = client.create_job({"name": "quick", "executor": {"type": "shell", "script": "echo ok"}})
    running = client.trigger(slow["id"])["id"]
    wait_for(lambda: client.get_run(running)["status"] == "running", 15, message="running")
    queued = [client.trigger(quick["id"])["id"] for _ in range(3)]
    assert set(statuses(client, queued)) == {"queued"}  # one slot, taken

    cluster.redis_server.restart(down_seconds=1.0)  # kill -9; comes back with nothing

    names = {j["name"] for j in client.list_jobs(limit=50)["items"]}
    assert names == {"slow", "quick"}, "definitions live in the store"
    wait_for(lambda: set(statuses(client, queued)) == {"succeeded"}, 30, 0.2, message="requeued")
    wait_for(
        lambda: chain_outcomes(all_runs(client, slow["id"])).get(running) == "succeeded",
        30,
        0.2,
        message="the running run reconciled",
    )
    again = client.trigger(quick["id"])["id"]
    wait_for(lambda: client.get_run(again)["status"] == "succeeded", 15, message="new runs work")
    assert "rebuilding from the store" in scheduler.output()


def test_st2_cancel_lands_within_a_poll_interval_with_pubsub_dead(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker("w", 2)
    client = cluster.client()
    job = client.create_job({"name": "st2", "executor": {"type": "shell", "script": "sleep 60"}})
    run = client.trigger(job["id"])["id"]
    wait_for(lambda: client.get_run(run)["status"] == "running", 15, message="running")
    stop = threading.Event()
    killed = [0]
    redis = cluster.redis_server
    # Pub/sub is dead for good: nobody may publish or subscribe any more, and the connections
    # subscribed already are killed (and again whenever one manages to come back).
    redis.command("ACL", "SETUSER", "default", "-publish", "-subscribe", "-psubscribe")

    def kill_pubsub() -> None:
        while not stop.is_set():
            killed[0] += int(redis.command("CLIENT", "KILL", "TYPE", "pubsub"))
            time.sleep(0.01)

    killer = threading.Thread(target=kill_pubsub, daemon=True)
    killer.start()
    try:
        wait_for(lambda: killed[0] >= 2, 10, message="pub/sub connections killed")
        asked = time.monotonic()
        client.cancel(run)
        done = wait_for(
            lambda: (r := client.get_run(run))["status"] in TERMINAL and r, 10, message="ended"
        )
        took = time.monotonic() - asked
    finally:
        stop.set()
        killer.join(5)
        redis.command("ACL", "SETUSER", "default", "+@all")
    assert done["status"] == "cancelled"
    assert took < 1.0 + 1.5, f"cancel took {took:.2f}s with a 1 s poll interval"
    print(f"cancel landed in {took:.2f}s with {killed[0]} pub/sub connections killed")


def _client_stats(cluster: Cluster) -> tuple[int, int]:
    info = cluster.redis().info()
    return int(info["connected_clients"]), int(info["total_connections_received"])


def test_st3_a_fleet_reconnects_after_a_30s_outage(cluster: Cluster) -> None:
    cluster.scheduler()
    workers = [cluster.worker(f"w{i}", 1) for i in range(8)]
    client = cluster.client()
    cluster.redis_server.kill9()
    time.sleep(30)
    cluster.redis_server.start()
    back = time.monotonic()

    def all_back() -> bool:
        return all(w.worker_ids() for w in workers)

    wait_for(all_back, 10, 0.05, message="all 8 workers registered again")
    took = time.monotonic() - back
    time.sleep(1)
    connected, total = _client_stats(cluster)
    # Each worker holds a handful of connections (claim, outbox, heartbeat, poll, pub/sub) and at
    # most 16; what matters is no storm: backoff spaced the attempts out.
    assert connected <= 8 * 8 + 16, f"{connected} clients connected"
    assert total <= 8 * 16 + 32, f"{total} connections since the restart"
    assert all(w.alive() for w in workers)
    job = client.create_job({"name": "st3", "executor": {"type": "shell", "script": "true"}})
    runs = [r["id"] for r in client.trigger_batch(job["id"], [{}] * 16)]
    wait_for(lambda: set(statuses(client, runs)) == {"succeeded"}, 20, 0.2, message="work")
    print(f"8 workers back {took:.2f}s after Redis returned; {connected} clients, {total} connects")


def test_st4_completion_racing_timeout_and_cancel_ends_once_1000x(cluster: Cluster) -> None:
    cluster.scheduler()
    for i in range(3):
        cluster.worker(f"w{i}", 16)
    client = cluster.client()
    recorder = LiveRecorder(cluster.redis_url).start()
    try:
        job = client.create_job(
            {
                "name": "st4",
                "executor": {"type": "shell", "script": "sleep 0.2"},
                "timeout_seconds": 0.205,
            }
        )
        ids = [r["id"] for r in client.trigger_batch(job["id"], [{}] * 1000)]
        for run_id in ids[::20]:  # a third contender: cancel while queued or running
            try:
                client.cancel(run_id)
            except ApiError as exc:  # it may already have ended: that race is part of the test
                assert exc.status_code == 409, exc

        def all_ended() -> list[dict[str, Any]] | None:
            runs = all_runs(client, job["id"])
            return (
                runs if len(runs) == 1000 and all(r["status"] in TERMINAL for r in runs) else None
            )

        runs = wait_for(all_ended, 120, 0.5, message="1000 runs ended")
        time.sleep(1)  # late (refused) events would show up now
    finally:
        recorder.stop()
    assert recorder.terminal_twice() == {}
    final = {r["id"]: r["status"] for r in runs}
    for run_id, history in recorder.statuses.items():
        if run_id in final and history[-1] in TERMINAL:
            assert history[-1] == final[run_id]
    seen = set(final.values())
    assert {"succeeded", "timed_out"} <= seen, f"no race happened: {seen}"
    assert seen <= {"succeeded", "timed_out", "cancelled"}
    print({s: list(final.values()).count(s) for s in seen})


def _evil_run(run_id: str, canary: Path, domain: str = "default") -> dict[str, Any]:
    spec = {"name": "evil", "executor": {"type": "shell", "script": f"touch {canary}"}}
    return {
        "id": run_id,
        "job_id": "j",
        "job_name": "evil",
        "domain": domain,
        "queue": "default",
        "status": "queued",
        "trigger": "api",
        "attempt": 1,
        "params": {},
        "spec": spec,
    }


def test_a4_forged_queue_entries_and_events_run_nothing(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    worker = cluster.worker("w", 2)
    client = cluster.client()
    canary = tmp_path / "pwned"
    victim_job = client.create_job(
        {"name": "victim", "executor": {"type": "shell", "script": "sleep 2; echo real"}}
    )
    victim = client.trigger(victim_job["id"])["id"]
    wait_for(lambda: client.get_run(victim)["status"] == "running", 15, message="running")
    r = cluster.redis()
    keys = SchedulerKeys(ADMIN)
    impostor = SchedulerKeys("guessed-" + "x" * 32)  # a key pair that is not the schedulers'
    forged: list[dict[str, Any]] = []
    for i, flavour in enumerate(["unsigned", "garbage", "wrong-key-pair"]):
        run = _evil_run(f"evil{i}", canary)
        payload = json.dumps(run).encode()
        fields: dict[str, Any] = {"r": run["id"], "p": payload, "t": ""}
        if flavour == "garbage":
            fields["s"] = "00" * 64
        elif flavour == "wrong-key-pair":
            fields["s"] = impostor.sign_down(frame("d", "default|default|", payload))
        forged.append(fields)
    # A genuine, validly signed delivery of domain `other`, replayed into `default`'s queue:
    other = _evil_run("evil-replay", canary, domain="other")
    payload = json.dumps(other).encode()
    tk = ticket(keys.scheduler_key, "other", other["id"])
    good_sig = keys.sign_down(frame("d", f"other|default|{tk}", payload))
    forged.append({"r": other["id"], "p": payload, "s": good_sig, "t": tk})
    for fields in forged:
        r.xadd(QUEUE, fields)
    # A forged completion of the running victim, straight into the events stream:
    fake = {"type": "finished", "status": "succeeded", "run_id": victim, "domain": "default"}
    r.xadd("hydra:events", {"d": "default", "p": json.dumps(fake), "k": "internal", "s": "00"})

    ok_job = client.create_job({"name": "ok", "executor": {"type": "shell", "script": "echo ok"}})
    ok = client.trigger(ok_job["id"])["id"]
    wait_for(lambda: client.get_run(ok)["status"] == "succeeded", 15, message="legit run")
    done = wait_for(lambda: client.get_run(victim)["status"] in TERMINAL, 15, message="victim")
    assert done is True
    final = client.get_run(victim)
    assert final["status"] == "succeeded" and client.full_log(victim) == "real\n"
    time.sleep(0.5)
    assert not canary.exists(), "a forged entry ran"
    log = worker.output()
    assert log.count("dropped queue entry") == len(forged), log
    assert r.xlen(QUEUE) == 0, "forged entries are removed, not left to pile up"
    assert all(run["job_name"] != "evil" for run in all_runs(client))
    assert "failed verification" in cluster.schedulers[0].output()
