"""Delivery survives what a process cannot: `hydra-jobs up` killed with deliveries pending, a run
whose replica died before recording its alert (the leader's sweep), a scheduler stopped across
schedule slots (missed), and the leader's watch over runs not started or running too long."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.alerts import ChannelRecord, DeliveryFilter
from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.client import Client
from hydra_jobs.clock import SystemClock
from hydra_jobs.config import Settings
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Run, Trigger
from hydra_jobs.notify.watch import Watcher
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.runs import new_run
from hydra_jobs.status import RunStatus
from hydra_jobs.store.sql.store import SqlStore
from tests.conftest import ADMIN, Server, wait_for
from tests.integration.test_notify import FAST
from tests.procs import UpProcess
from tests.receivers import HttpReceiver

UP_ENV = {
    "HYDRA_NOTIFY_RETRY_SECONDS": "0.3",
    "HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS": "true",
}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


def _setup(client: Client, receiver: HttpReceiver, **spec: Any) -> dict[str, Any]:
    client.create_channel({"name": "ops", "type": "webhook", "url": receiver.url})
    body = {
        "name": "broken",
        "executor": {"type": "shell", "script": "exit 1"},
        "notify": [{"channel": "ops", "on": ["failed"]}],
        **spec,
    }
    return client.create_job(body)


def test_a_restart_of_up_in_the_middle_loses_nothing(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    receiver.failing = True
    up = UpProcess(tmp_path / "data", **UP_ENV).start()
    try:
        with Client(up.url, ADMIN) as client:
            job = _setup(client, receiver)
            runs = [client.trigger(job["id"])["id"] for _ in range(3)]
            wait_for(
                lambda: (
                    len(d := client.deliveries(job_id=job["id"])) == 3
                    and all(x["attempts"] >= 2 for x in d)
                ),
                30,
                message="three deliveries tried twice",
            )
            before = {d["run_id"]: d for d in client.deliveries(job_id=job["id"])}
        up.kill9()  # no chance to finish anything
        tried = {r.headers["X-Hydra-Delivery"] for r in receiver.requests}
        assert len(tried) == 3
        receiver.failing = False
        up.start()
        with Client(up.url, ADMIN) as client:
            # A claim cut short by the kill is due again once it lapses (35 s at most).
            after = wait_for(
                lambda: (
                    (d := client.deliveries(job_id=job["id"]))
                    and all(x["status"] == "sent" for x in d)
                    and d
                ),
                60,
                0.2,
                message="every delivery sent after the restart",
            )
    finally:
        up.stop()
    assert sorted(d["run_id"] for d in after) == sorted(runs)
    for d in after:
        assert d["dedup_key"] == before[d["run_id"]]["dedup_key"]
        assert d["attempts"] > before[d["run_id"]]["attempts"]
    assert {r.headers["X-Hydra-Delivery"] for r in receiver.accepted} == tried


async def test_the_sweep_records_what_a_dead_replica_did_not(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'sweep.db'}")
    await store.open()
    await store.ensure_domain("default")
    rt = Runtime(
        store=store,
        broker=MemoryBroker(),
        clock=SystemClock(),
        settings=Settings(ADMIN_TOKEN="x" * 32, HYDRA_DATA_DIR=tmp_path),
    )
    try:
        now = rt.clock.now()
        await store.create_channel(
            ChannelRecord("default", "ops", "webhook", {"url": "https://example.org/h"}, now, "t")
        )
        spec = JobSpec.model_validate(
            {
                "name": "j",
                "executor": {"type": "shell", "script": "exit 1"},
                "notify": [{"channel": "ops", "on": ["failed"]}],
            }
        )
        job = Job(**spec.model_dump(), id="j1", domain="default", created_at=now, updated_at=now)
        await store.create_job(job)
        # The run ended and was stored, and its replica died before after_terminal ran.
        run: Run = new_run(job, trigger=Trigger.MANUAL, params={}, now=now).model_copy(
            update={
                "status": RunStatus.FAILED,
                "started_at": now,
                "finished_at": now,
                "exit_code": 1,
            }
        )
        await store.insert_runs([run])
        watcher = Watcher(store, rt.clock, rt.settings, rt.emitter)
        await watcher.sweep()
        await watcher.sweep()  # again: the same dedup key, no second row
        page = await store.list_deliveries("default", DeliveryFilter(), limit=10, cursor=None)
        assert [(d.run_id, d.event.value, d.status.value) for d in page.items] == [
            (run.id, "failed", "pending")
        ]
    finally:
        await store.close()


def test_a_scheduler_stopped_across_slots_alerts_missed(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    up = UpProcess(tmp_path / "data", **UP_ENV).start()
    try:
        with Client(up.url, ADMIN) as client:
            job = _setup(
                client,
                receiver,
                name="ticking",
                executor={"type": "shell", "script": "true"},
                schedule={"cron": "*/5 * * * * *"},
                notify=[{"channel": "ops", "on": ["missed"]}],
            )
        up.stop()
        time.sleep(36)  # the scheduler is down across slots more than 30 s old (missed)
        up.start()
        with Client(up.url, ADMIN) as client:
            [missed] = wait_for(
                lambda: [d for d in client.deliveries(job_id=job["id"]) if d["status"] == "sent"],
                30,
                0.2,
                message="a sent `missed` alert",
            )
            skipped = client.get_run(missed["run_id"])
    finally:
        up.stop()
    assert missed["event"] == "missed" and skipped["status"] == "skipped"
    assert "while no scheduler was running" in receiver.accepted[0].json()["summary"]


def test_not_started_and_running_too_long(
    make_server: Callable[..., Server], receiver: HttpReceiver
) -> None:
    srv = make_server(**FAST, HYDRA_CONCURRENCY=1)
    srv.client.create_channel({"name": "ops", "type": "webhook", "url": receiver.url})
    hog = srv.job(
        "hog",
        "sleep 60",
        notify=[{"channel": "ops", "on": ["running_too_long"], "longer_than_seconds": 2}],
    )
    hogging = srv.client.trigger(hog["id"])["id"]
    srv.wait_run(hogging, statuses={"running"})
    # The only slot is held by `hog`: this job's slots queue and do not start.
    cron = srv.job(
        "cronned",
        "true",
        schedule={"cron": "*/2 * * * * *"},
        concurrency={"max_running": 1, "overlap": "queue"},
        notify=[{"channel": "ops", "on": ["not_started"], "not_started_seconds": 1}],
    )
    found = wait_for(
        lambda: (
            {d["event"] for d in srv.client.deliveries() if d["status"] == "sent"}
            >= {"running_too_long", "not_started"}
            and srv.client.deliveries()
        ),
        40,
        0.2,
        message="running_too_long and not_started alerts",
    )
    by_event = {d["event"]: d for d in found}
    assert by_event["running_too_long"]["run_id"] == hogging
    summaries = {r.json()["event"]: r.json()["summary"] for r in receiver.accepted}
    assert summaries["running_too_long"].endswith("over 2 s")
    assert "not started" in summaries["not_started"]
    waiting = srv.client.get_run(by_event["not_started"]["run_id"])
    assert waiting["job_id"] == cron["id"] and waiting["started_at"] is None
    srv.client.pause(cron["id"])
    srv.client.cancel(hogging)
    # One alert per run and event, however many watch rounds saw it.
    keys = [d["dedup_key"] for d in srv.client.deliveries()]
    assert len(keys) == len(set(keys))
