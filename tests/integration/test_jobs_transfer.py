"""Export and import of a domain's jobs through the real API (issue 17)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hydra_jobs.client import ApiError, Client
from hydra_jobs.scheduler.services.transfer import MAX_IMPORT_BYTES, MAX_IMPORT_JOBS
from tests.conftest import ADMIN, Server

REPORT: dict[str, Any] = {
    "name": "nightly-report",
    "description": "the nightly numbers",
    "executor": {"type": "shell", "script": "./run.sh"},
    "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
    "env": {"REPORT_DAYS": "7"},
    "params": {"day": {"default": "today"}},
    "timeout_seconds": 3600,
    "retries": {"max_attempts": 3, "backoff_seconds": 20},
    "concurrency": {"max_running": 1, "overlap": "skip"},
    "tags": ["linux"],
}
CLEANUP: dict[str, Any] = {
    "name": "cleanup",
    "executor": {"type": "python", "script": "print('tidy')"},
    "schedule": {"interval_seconds": 300},
}
ADHOC: dict[str, Any] = {"name": "adhoc", "executor": {"type": "shell", "script": "echo hi"}}


def names(client: Client) -> list[str]:
    return sorted(job["name"] for job in client.list_jobs(limit=500)["items"])


def new_domain(server: Server, name: str) -> str:
    server.client.create_domain(name)
    return str(server.client.create_token(name, f"{name}-ci", "owner")["token"])


def raw_export(server: Server, token: str, domain: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"}
    if domain:
        headers["X-Hydra-Domain"] = domain
    response = httpx.get(server.url + "/api/v1/jobs/export", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.content


def test_export_is_the_specs_sorted_by_name_and_round_trips(server: Server) -> None:
    for spec in (REPORT, CLEANUP, ADHOC):
        server.client.create_job(spec)
    paused = server.client.find_job("cleanup")
    assert paused is not None
    server.client.pause(paused["id"])

    doc = server.client.export_jobs()
    assert doc["version"] == 1 and doc["domain"] == "default"
    assert [j["name"] for j in doc["jobs"]] == ["adhoc", "cleanup", "nightly-report"]
    assert doc["jobs"][0] == ADHOC  # as written: no ids, times, run state or defaults
    assert doc["jobs"][2] == REPORT

    server.client.create_domain("copy")
    copy = Client(server.url, ADMIN, domain="copy")
    plan = copy.import_jobs(doc["jobs"], dry_run=False)
    assert plan["create"] == ["adhoc", "cleanup", "nightly-report"] and plan["applied"]
    assert copy.export_jobs() == {**doc, "domain": "copy"}
    # The same jobs export the same bytes, in the same domain and in the copy.
    before = raw_export(server, ADMIN)
    assert server.client.import_jobs(doc["jobs"], dry_run=False)["unchanged"] == [
        "adhoc",
        "cleanup",
        "nightly-report",
    ]
    assert raw_export(server, ADMIN) == before
    assert raw_export(server, ADMIN, "copy") == before.replace(b'"default"', b'"copy"', 1)


def test_a_dry_run_plans_and_changes_nothing(server: Server) -> None:
    kept = server.client.create_job(REPORT)
    server.client.create_job(ADHOC)
    changed = {**REPORT, "schedule": {"cron": "0 3 * * *", "timezone": "UTC"}, "env": {}}

    plan = server.client.import_jobs([changed, CLEANUP], prune=True)  # dry_run is the default
    assert plan == {
        "domain": "default",
        "create": ["cleanup"],
        "update": [
            {
                "name": "nightly-report",
                "changes": ["env.REPORT_DAYS", "schedule.cron", "schedule.timezone"],
            }
        ],
        "unchanged": [],
        "delete": ["adhoc"],
        "applied": False,
    }
    assert names(server.client) == ["adhoc", "nightly-report"]
    assert server.client.get_job(kept["id"])["schedule"]["cron"] == "0 2 * * *"


def test_import_replaces_by_name_and_a_second_import_is_all_unchanged(server: Server) -> None:
    job = server.client.create_job(REPORT)
    server.client.pause(job["id"])
    changed = {**REPORT, "description": "new words", "tags": ["linux", "big"]}

    plan = server.client.import_jobs([changed, CLEANUP], dry_run=False)
    assert plan["create"] == ["cleanup"]
    assert plan["update"] == [{"name": "nightly-report", "changes": ["description", "tags"]}]
    replaced = server.client.get_job(job["id"])  # the same job: its id, history and pause kept
    assert replaced["description"] == "new words" and replaced["paused"]

    again = server.client.import_jobs([changed, CLEANUP], dry_run=False)
    assert again["unchanged"] == ["cleanup", "nightly-report"]
    assert again["create"] == again["update"] == again["delete"] == []


def test_prune_deletes_only_the_jobs_not_in_the_file(server: Server) -> None:
    for spec in (REPORT, CLEANUP, ADHOC):
        server.client.create_job(spec)
    without = server.client.import_jobs([REPORT], dry_run=False)
    assert without["delete"] == [] and names(server.client) == [
        "adhoc",
        "cleanup",
        "nightly-report",
    ]

    pruned = server.client.import_jobs([REPORT, ADHOC], prune=True, dry_run=False)
    assert pruned["delete"] == ["cleanup"]
    assert names(server.client) == ["adhoc", "nightly-report"]


def test_one_invalid_spec_applies_nothing_and_names_the_job_and_field(server: Server) -> None:
    server.client.create_job(ADHOC)
    bad = {**CLEANUP, "timeout": 5}
    with pytest.raises(ApiError) as exc:
        server.client.import_jobs([REPORT, bad], prune=True, dry_run=False)
    assert exc.value.status_code == 422
    [error] = exc.value.detail
    assert error["loc"] == ["body", "jobs", 1, "timeout"]
    assert names(server.client) == ["adhoc"]  # not created, not pruned

    twice = {**REPORT, "description": "again"}
    with pytest.raises(ApiError) as exc:
        server.client.import_jobs([REPORT, ADHOC, twice], prune=True, dry_run=False)
    assert exc.value.status_code == 422
    assert exc.value.detail[0]["loc"] == ["body", "jobs", 2, "name"]
    assert "also the name of jobs.0" in exc.value.detail[0]["msg"]
    assert names(server.client) == ["adhoc"]


def test_the_number_of_jobs_and_the_body_are_capped(server: Server) -> None:
    many = [{**ADHOC, "name": f"job-{i}"} for i in range(MAX_IMPORT_JOBS + 1)]
    with pytest.raises(ApiError) as exc:
        server.client.import_jobs(many, dry_run=False)
    assert exc.value.status_code == 422 and exc.value.detail[0]["loc"] == ["body", "jobs"]

    huge = {**ADHOC, "description": "x" * MAX_IMPORT_BYTES}
    response = server.client.http.post("/jobs/import", json={"jobs": [huge]})
    assert response.status_code == 413, response.text
    assert names(server.client) == []


def test_a_domain_token_imports_into_its_own_domain_only(server: Server) -> None:
    token_a = new_domain(server, "team-a")
    new_domain(server, "team-b")
    body = {"jobs": [ADHOC], "dry_run": False}
    headers = {"Authorization": f"Bearer {token_a}", "X-Hydra-Domain": "team-b"}
    refused = httpx.post(server.url + "/api/v1/jobs/import", json=body, headers=headers)
    assert refused.status_code == 404
    refused_export = httpx.get(server.url + "/api/v1/jobs/export", headers=headers)
    assert refused_export.status_code == 404
    team_b = Client(server.url, ADMIN, domain="team-b")
    assert names(team_b) == []

    team_a = Client(server.url, token_a)
    assert team_a.import_jobs([ADHOC])["domain"] == "team-a"  # a plan: not audited
    assert team_a.import_jobs([ADHOC], dry_run=False)["create"] == ["adhoc"]
    assert names(team_a) == ["adhoc"] and names(team_b) == []
    assert team_a.export_jobs()["domain"] == "team-a"
    audited = [i for i in team_a.audit()["items"] if i["action"] == "jobs.import_jobs"]
    assert len(audited) == 1
    assert audited[0]["actor"] == "token:team-a-ci" and audited[0]["domain"] == "team-a"
    assert audited[0]["details"]["created"] == ["adhoc"]
    assert audited[0]["details"]["prune"] is False
