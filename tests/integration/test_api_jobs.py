"""Jobs API against a real scheduler: CRUD, validation, auth, pagination, error shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hydra_jobs.client import ApiError
from tests.conftest import Server

SPEC: dict[str, Any] = {
    "name": "nightly-report",
    "description": "optional",
    "executor": {"type": "shell", "script": "./run.sh"},
    "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
    "env": {"REPORT_DAYS": "7"},
    "params": {"day": {"default": "today"}},
    "timeout_seconds": 3600,
    "retries": {
        "max_attempts": 3,
        "backoff_seconds": 10,
        "backoff_factor": 2.0,
        "max_backoff_seconds": 600,
    },
    "concurrency": {"max_running": 1, "overlap": "skip"},
    "catchup": "none",
    "queue": "default",
    "tags": ["linux"],
    "enabled": True,
}


def raw(
    server: Server,
    method: str,
    path: str,
    token: str | None = "admin",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    base = dict(server.client.http.headers) if token == "admin" else {}
    headers = {**base, **(headers or {})}
    if token not in (None, "admin"):
        headers["Authorization"] = f"Bearer {token}"
    if token is None:
        headers.pop("Authorization", None)
    return httpx.request(
        method, server.url + "/api/v1" + path, headers=headers, timeout=10, **kwargs
    )


def test_create_get_list_replace_delete(server: Server) -> None:
    job = server.client.create_job(SPEC)
    assert job["name"] == "nightly-report" and job["domain"] == "default"
    assert job["next_fire_at"] is not None
    assert server.client.get_job(job["id"])["env"] == {"REPORT_DAYS": "7"}
    listed = server.client.list_jobs()
    assert [j["id"] for j in listed["items"]] == [job["id"]]

    changed = {**SPEC, "description": "changed", "schedule": None}
    replaced = server.client.replace_job(job["id"], changed)
    assert replaced["description"] == "changed" and replaced["next_fire_at"] is None
    assert replaced["created_at"] == job["created_at"]

    server.client.delete_job(job["id"])
    with pytest.raises(ApiError) as exc:
        server.client.get_job(job["id"])
    assert exc.value.status_code == 404


def test_duplicate_name_is_409(server: Server) -> None:
    server.client.create_job(SPEC)
    with pytest.raises(ApiError) as exc:
        server.client.create_job(SPEC)
    assert exc.value.status_code == 409


def test_cursor_pagination_visits_every_job_once(server: Server) -> None:
    ids = {server.client.create_job({**SPEC, "name": f"job-{i}"})["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        page = server.client.list_jobs(limit=3, cursor=cursor)
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    assert seen == sorted(seen, reverse=True)  # newest first


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"schedule": {"cron": "61 * * * *"}}, ["body", "schedule"]),
        ({"schedule": {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}}, ["body", "schedule"]),
        ({"timeout_seconds": -5}, ["body", "timeout_seconds"]),
        ({"executor": {"type": "perl", "script": "x"}}, ["body", "executor", "type"]),
        ({"executor": {"type": "shell", "script": "   "}}, ["body", "executor", "script"]),
        ({"unknown_field": 1}, ["body", "unknown_field"]),
        ({"env": {"HYDRA_X": "1"}}, ["body", "env"]),
        ({"queue": "Bad Queue!"}, ["body", "queue"]),
        ({"retries": {"max_attempts": 0}}, ["body", "retries", "max_attempts"]),
        ({"concurrency": {"overlap": "sometimes"}}, ["body", "concurrency", "overlap"]),
        ({"source": {"url": "ext::sh -c touch% /tmp/pwned"}}, ["body", "source", "url"]),
        (
            {"source": {"url": "https://x.org/r.git", "ref": "--upload-pack=evil"}},
            ["body", "source", "ref"],
        ),
        (
            {"source": {"url": "https://x.org/r.git", "path": "../../etc"}},
            ["body", "source", "path"],
        ),
    ],
)
def test_invalid_specs_are_422_with_field_path(
    server: Server, patch: dict[str, Any], loc: list[str]
) -> None:
    response = raw(server, "POST", "/jobs", json={**SPEC, **patch})
    assert response.status_code == 422, response.text
    locs = [e["loc"][: len(loc)] for e in response.json()["detail"]]
    assert loc in locs, response.json()


def test_an_unknown_field_is_told_the_field_it_resembles(server: Server) -> None:
    typos = {"timeout": 5, "retries": {"max_atempts": 2}, "params": {"p": {"defualt": "x"}}}
    for endpoint in ("/jobs", "/jobs/validate"):
        response = raw(server, "POST", endpoint, json={**SPEC, **typos})
        body = response.json()
        errors = body["detail"] if response.status_code == 422 else body["errors"]
        messages = {tuple(e["loc"]): e["msg"] for e in errors}
        assert messages[("body", "timeout")].endswith("did you mean 'timeout_seconds'?"), endpoint
        assert messages[("body", "retries", "max_atempts")].endswith("'max_attempts'?")
        assert messages[("body", "params", "p", "defualt")].endswith("'default'?")
    response = raw(server, "POST", "/jobs", json={**SPEC, "zzz": 1})
    assert response.json()["detail"][0]["msg"] == "Extra inputs are not permitted"  # no guess


def test_validate_reports_errors_and_next_fires(server: Server) -> None:
    ok = server.client.validate(SPEC)
    assert ok["valid"] is True and len(ok["next_fires"]) == 5
    assert all(f.endswith(("00:00Z", "+00:00")) or "T" in f for f in ok["next_fires"])
    bad = server.client.validate({**SPEC, "schedule": {"cron": "* * *"}})
    assert bad["valid"] is False and bad["errors"][0]["loc"][:2] == ["body", "schedule"]
    assert server.client.list_jobs()["items"] == []  # validate never saves


def test_schedule_preview(server: Server) -> None:
    response = raw(
        server,
        "GET",
        "/schedules/preview",
        params={"cron": "30 2 * * *", "timezone": "America/New_York", "count": 3},
    )
    assert response.status_code == 200
    assert len(response.json()["fires"]) == 3
    bad = raw(
        server,
        "GET",
        "/schedules/preview",
        params={"cron": "30 2 * * *", "timezone": "Nowhere/Land"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "timezone"]


def test_every_api_route_needs_a_valid_token(server: Server) -> None:
    schema = httpx.get(server.url + "/openapi.json").json()
    checked = 0
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        concrete = (
            path.removeprefix("/api/v1")
            .replace("{job_id}", "x")
            .replace("{run_id}", "x")
            .replace("{worker_id}", "x")
            .replace("{name}", "x")
            .replace("{token_id}", "x")
        )
        for method in methods:
            response = raw(server, method.upper(), concrete, token=None)
            assert response.status_code == 401, (method, path, response.text)
            # Each wrong token from an address of its own: a burst from one address gets 429
            # once throttled (test_api_guard.py); here each route must answer 401 by itself.
            checked += 1
            with httpx.Client(
                transport=httpx.HTTPTransport(local_address=f"127.0.1.{checked % 250 + 1}")
            ) as client:
                response = client.request(
                    method.upper(),
                    server.url + "/api/v1" + concrete,
                    headers={"Authorization": "Bearer wrong-token"},
                    timeout=10,
                )
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 40
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_unknown_ids_are_404(server: Server) -> None:
    for method, path in [
        ("GET", "/jobs/nope"),
        ("PUT", "/jobs/nope"),
        ("DELETE", "/jobs/nope"),
        ("POST", "/jobs/nope/run"),
        ("POST", "/jobs/nope/pause"),
        ("GET", "/runs/nope"),
        ("GET", "/runs/nope/logs"),
        ("POST", "/runs/nope/cancel"),
        ("POST", "/runs/nope/retry"),
        ("GET", "/runs/nope/logs/stream"),
        ("POST", "/workers/nope/drain"),
    ]:
        kwargs: dict[str, Any] = {"json": SPEC} if method == "PUT" else {}
        response = raw(server, method, path, **kwargs)
        assert response.status_code == 404, (method, path, response.text)


def test_a_job_name_where_its_id_belongs_says_how_to_find_the_id(server: Server) -> None:
    job = server.client.create_job(SPEC)
    response = raw(server, "POST", f"/jobs/{job['name']}/run")
    assert response.status_code == 404
    assert f"GET /api/v1/jobs?search={job['name']}" in response.json()["detail"]
    unknown_id = raw(server, "GET", "/jobs/" + "0" * 32)
    assert unknown_id.json()["detail"] == f"job '{'0' * 32}' not found"  # a real id: no hint


def test_other_domain_sees_nothing(server: Server) -> None:
    job = server.client.create_job(SPEC)
    assert raw(server, "POST", "/domains", json={"name": "other"}).status_code == 201
    other = {"X-Hydra-Domain": "other"}
    response = raw(server, "GET", f"/jobs/{job['id']}", headers=other)
    assert response.status_code == 404
    assert raw(server, "GET", "/jobs", headers=other).json()["items"] == []


def test_pause_and_resume(server: Server) -> None:
    job = server.client.create_job(SPEC)
    assert server.client.pause(job["id"])["paused"] is True
    assert server.client.resume(job["id"])["paused"] is False


def test_openapi_documents_the_contract(server: Server) -> None:
    schema = httpx.get(server.url + "/openapi.json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/validate",
        "/api/v1/jobs/export",
        "/api/v1/jobs/import",
        "/api/v1/jobs/{job_id}/run",
        "/api/v1/jobs/{job_id}/pause",
        "/api/v1/jobs/{job_id}/resume",
        "/api/v1/schedules/preview",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/logs",
        "/api/v1/runs/{run_id}/logs/stream",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/runs/{run_id}/retry",
        "/api/v1/workers",
        "/api/v1/workers/{worker_id}/drain",
        "/api/v1/events",
        "/api/v1/domains",
        "/api/v1/ai/generate",
        "/api/v1/runs/{run_id}/analyze",
        "/healthz",
        "/readyz",
        "/metrics",
    ]:
        assert path in paths, path
    job_schema = schema["components"]["schemas"]["JobSpec"]
    assert job_schema["additionalProperties"] is False
    assert "text/event-stream" in paths["/api/v1/events"]["get"]["responses"]["200"]["content"]


def test_unknown_api_paths_are_json_404s_even_with_the_ui_mounted(
    make_server: Any, tmp_path: Any
) -> None:
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<html>ui</html>")
    server = make_server(HYDRA_UI_DIR=ui)
    assert httpx.get(server.url + "/jobs/anything").text == "<html>ui</html>"  # the SPA's routes
    for path in ("/api/v1/healthz", "/api/v1/nosuch", "/api/v1/jobs/x/y/z", "/api"):
        response = httpx.get(server.url + path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json"), path
