"""One tenant cannot create unbounded work (issue 13 §6): parameters bounded like env values,
intervals of at least a second."""

from __future__ import annotations

from typing import Any

from hydra_jobs.models import MAX_ENV_VALUE_CHARS
from tests.conftest import Server
from tests.integration.test_api_jobs import raw

JOB: dict[str, Any] = {"name": "limits", "executor": {"type": "shell", "script": "true"}}


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
