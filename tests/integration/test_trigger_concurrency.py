"""Triggers arriving together each get their own run, each run runs once, and a trigger always
runs the job as it is stored at that moment (no stale definition from an earlier lookup)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hydra_jobs.client import Client
from tests.conftest import ADMIN, Server, wait_for

TRIGGERS = 24


def test_concurrent_triggers_get_distinct_runs_that_each_run_once(server: Server) -> None:
    job = server.job("together", "echo run $HYDRA_RUN_ID")

    def trigger(_: int) -> str:
        with Client(server.url, ADMIN) as client:
            return str(client.trigger(job["id"])["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(trigger, range(TRIGGERS)))

    assert len(set(ids)) == TRIGGERS
    runs = wait_for(
        lambda: (
            (page := server.client.list_runs(job_id=job["id"], limit=100)["items"])
            and all(r["status"] == "succeeded" for r in page)
            and page
        ),
        timeout=30,
        message="every triggered run to succeed",
    )
    assert sorted(r["id"] for r in runs) == sorted(ids)
    for run_id in ids:
        assert server.client.logs(run_id)["data"] == f"run {run_id}\n", "ran more than once"


def test_a_trigger_after_a_replace_runs_the_new_definition(server: Server) -> None:
    job = server.job("changing", "echo first")
    first = server.wait_run(server.client.trigger(job["id"])["id"])
    spec = {"name": "changing", "executor": {"type": "shell", "script": "echo second"}}
    server.client.replace_job(job["id"], spec)

    second = server.wait_run(server.client.trigger(job["id"])["id"])

    assert server.client.logs(first["id"])["data"] == "first\n"
    assert server.client.logs(second["id"])["data"] == "second\n"
