"""One tenant cannot create unbounded work (issue 13 §6): a cap on the runs each domain creates
per minute, parameters bounded like env values, intervals of at least a second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from hydra_jobs.client import Client
from hydra_jobs.job_spec import MAX_ENV_VALUE_CHARS
from tests.conftest import ADMIN, Server, wait_for
from tests.integration.test_api_jobs import raw

JOB: dict[str, Any] = {"name": "limits", "executor": {"type": "shell", "script": "true"}}


def test_a_domain_over_its_runs_per_minute_gets_429_with_retry_after(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(HYDRA_MAX_RUNS_PER_MINUTE=4)
    job = server.client.create_job(JOB)
    first = [server.client.trigger(job["id"])["id"] for _ in range(2)]
    assert len(server.client.trigger_batch(job["id"], [{}, {}])) == 2  # a fan-out counts each
    refused = raw(server, "POST", f"/jobs/{job['id']}/run", json={})
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "HYDRA_MAX_RUNS_PER_MINUTE" in refused.json()["detail"]
    run = server.wait_run(first[0])
    assert raw(server, "POST", f"/runs/{run['id']}/retry").status_code == 429  # by hand too
    too_many = raw(server, "POST", f"/jobs/{job['id']}/runs/batch", json={"runs": [{}] * 5})
    assert too_many.status_code == 422, too_many.text  # never fits: not worth retrying
    assert too_many.json()["detail"][0]["loc"] == ["body", "runs"]
    assert len(server.client.list_runs(job_id=job["id"])["items"]) == 4
    metrics = httpx.get(server.url + "/metrics").text
    assert "hydra_runs_refused_over_cap 7.0" in metrics, metrics  # 1 + 1 + 5 refused
    # Another domain has its own count.
    server.client.create_domain("other")
    with Client(server.url, ADMIN, domain="other") as other:
        other_job = other.create_job(JOB)
        assert other.trigger(other_job["id"])["status"] in {"queued", "pending"}


def test_a_huge_parameter_value_is_422_before_anything_is_stored(server: Server) -> None:
    params = {f"p{i}": {"default": ""} for i in range(9)}
    job = server.client.create_job({**JOB, "params": params})
    huge = {"p0": "x" * (50 * 1024 * 1024)}
    response = raw(server, "POST", f"/jobs/{job['id']}/run", json={"params": huge})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["loc"] == ["body", "params", "p0"]
    full = {f"p{i}": "x" * MAX_ENV_VALUE_CHARS for i in range(9)}  # each fine, too much together
    response = raw(server, "POST", f"/jobs/{job['id']}/run", json={"params": full})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["loc"] == ["body", "params"]
    batch = {"runs": [{"params": {"p1": "ok"}}, {"params": full}]}
    response = raw(server, "POST", f"/jobs/{job['id']}/runs/batch", json=batch)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["loc"] == ["body", "runs", 1, "params"]
    assert server.client.list_runs(job_id=job["id"])["items"] == []


def test_an_interval_under_a_second_and_case_twin_params_are_422(server: Server) -> None:
    fast = raw(server, "POST", "/jobs", json={**JOB, "schedule": {"interval_seconds": 0.001}})
    assert fast.status_code == 422, fast.text
    assert fast.json()["detail"][0]["loc"] == ["body", "schedule", "interval_seconds"]
    twins = raw(server, "POST", "/jobs", json={**JOB, "params": {"foo": {}, "FOO": {}}})
    assert twins.status_code == 422, twins.text
    detail = twins.json()["detail"][0]
    assert detail["loc"] == ["body", "params"] and "HYDRA_PARAM_FOO" in detail["msg"]


def test_retries_a_job_policy_owes_are_never_refused_but_counted(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(HYDRA_MAX_RUNS_PER_MINUTE=2)
    failing = {"type": "shell", "script": "exit 3"}
    retries = {"max_attempts": 4, "backoff_seconds": 0, "jitter": 0}
    job = server.client.create_job({**JOB, "executor": failing, "retries": retries})
    server.client.trigger(job["id"])  # one of two

    def attempts() -> list[dict[str, Any]]:
        items = server.client.list_runs(job_id=job["id"])["items"]
        return [r for r in items if r["status"] == "failed"]

    ended = wait_for(lambda: len(attempts()) == 4 and attempts(), 20, message="four attempts")
    assert sorted(r["attempt"] for r in ended) == [1, 2, 3, 4]  # three retries, past the cap
    refused = raw(server, "POST", f"/jobs/{job['id']}/run", json={})
    assert refused.status_code == 429, refused.text  # the domain pays for them
