"""Job history through the real API and CLI: each create, update, restore and import is a version
(who, when, how, the spec); pause is not (it is no change of the spec); a run records the version
it was made from; another domain's history does not exist; bad version numbers are 422s."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from hydra_jobs.client import ApiError, Client
from tests.conftest import ADMIN, Server
from tests.procs import HYDRA, cli_env


def spec(script: str, **more: object) -> dict[str, object]:
    return {"name": "report", "executor": {"type": "shell", "script": script}, **more}


def history(client: Client, job_id: str) -> list[tuple[int, str, str, int | None]]:
    items = client.job_versions(job_id)["items"]
    return [(v["version"], v["change"], v["actor"], v.get("restored_from")) for v in items]


def test_every_change_is_a_version_and_a_restore_makes_a_new_one(server: Server) -> None:
    admin = server.client
    token = admin.create_token("default", "ci", "editor")["token"]
    ci = Client(server.url, token)
    job = admin.create_job(spec("echo one"))
    assert job["version"] == 1
    first_run = server.wait_run(admin.trigger(job["id"])["id"])
    assert first_run["job_version"] == 1

    changed = ci.replace_job(job["id"], spec("echo two", timeout_seconds=30))
    assert changed["version"] == 2
    same = ci.replace_job(job["id"], spec("echo two", timeout_seconds=30))  # resubmitted as is
    assert same["version"] == 2 and same["updated_at"] == changed["updated_at"]
    admin.pause(job["id"])
    admin.resume(job["id"])  # paused is not part of the spec: no version
    assert history(admin, job["id"]) == [
        (2, "update", "token:ci", None),
        (1, "create", "admin", None),
    ]
    second = admin.job_version(job["id"], 2)
    assert second["spec"]["executor"]["script"] == "echo two"
    assert second["spec"]["timeout_seconds"] == 30 and second["at"] == changed["updated_at"]

    restored = ci.restore_job_version(job["id"], 1)
    assert restored["version"] == 3 and restored["executor"]["script"] == "echo one"
    assert restored["timeout_seconds"] is None
    assert history(admin, job["id"])[0] == (3, "restore", "token:ci", 1)
    run = server.wait_run(admin.trigger(job["id"])["id"])
    assert run["job_version"] == 3 and run["spec"]["executor"]["script"] == "echo one"
    assert admin.get_run(first_run["id"])["job_version"] == 1  # the old run keeps its version

    audit = admin.audit()["items"]
    assert any(a["action"] == "jobs.restore_job_version" for a in audit), audit

    page = admin.job_versions(job["id"], limit=2)
    assert [v["version"] for v in page["items"]] == [3, 2] and page["next_cursor"] == "2"
    rest = admin.job_versions(job["id"], limit=2, cursor=page["next_cursor"])
    assert [v["version"] for v in rest["items"]] == [1]


def test_history_is_scoped_and_bad_versions_are_refused(server: Server) -> None:
    admin = server.client
    admin.create_domain("other")
    other = Client(server.url, admin.create_token("other", "o", "owner")["token"])
    job = admin.create_job(spec("true"))
    viewer = Client(server.url, admin.create_token("default", "v", "viewer")["token"])
    assert [v["version"] for v in viewer.job_versions(job["id"])["items"]] == [1]
    assert viewer.job_version(job["id"], 1)["spec"]["name"] == "report"
    try:
        viewer.restore_job_version(job["id"], 1)
    except ApiError as exc:
        assert exc.status_code == 403  # restoring changes the job: an editor's
    else:
        raise AssertionError("a viewer restored a version")
    for call in (
        lambda: other.job_versions(job["id"]),
        lambda: other.job_version(job["id"], 1),
        lambda: other.restore_job_version(job["id"], 1),
        lambda: admin.job_version(job["id"], 2),
        lambda: admin.restore_job_version(job["id"], 5),
    ):
        try:
            call()
        except ApiError as exc:
            assert exc.status_code == 404
        else:
            raise AssertionError("expected a 404")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    for bad in ("0", "-1", "x", "99999999999"):
        response = httpx.get(
            f"{server.url}/api/v1/jobs/{job['id']}/versions/{bad}", headers=headers
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "version"]
    response = httpx.get(
        f"{server.url}/api/v1/jobs/{job['id']}/versions", params={"cursor": "0"}, headers=headers
    )
    assert response.status_code == 422
    assert history(admin, job["id"]) == [(1, "create", "admin", None)]  # nothing restored

    admin.delete_job(job["id"])
    try:
        admin.job_versions(job["id"])
    except ApiError as exc:
        assert exc.status_code == 404
    else:
        raise AssertionError("a deleted job's history is gone with it")


def test_an_import_that_changes_a_job_keeps_a_version(server: Server) -> None:
    admin = server.client
    job = admin.create_job(spec("echo a"))
    plan = admin.import_jobs([spec("echo b")], dry_run=True)
    assert history(admin, job["id"]) == [(1, "create", "admin", None)]  # a plan changes nothing
    assert plan["update"]
    admin.import_jobs([spec("echo b"), {**spec("new"), "name": "fresh"}], dry_run=False)
    assert history(admin, job["id"])[0] == (2, "import", "admin", None)
    fresh = admin.find_job("fresh")
    assert fresh is not None and history(admin, fresh["id"]) == [(1, "import", "admin", None)]
    admin.import_jobs([spec("echo b"), {**spec("new"), "name": "fresh"}], dry_run=False)
    assert len(history(admin, job["id"])) == 2  # unchanged: no new version


def hydra(
    server: Server, *args: str, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYDRA, *args],
        env=cli_env(HYDRA_URL=server.url, HYDRA_TOKEN=ADMIN, COLUMNS="200"),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_history_diff_and_restore(server: Server) -> None:
    admin = server.client
    job = admin.create_job(spec("echo one"))
    admin.replace_job(job["id"], spec("echo two"))

    listed = hydra(server, "history", "report")
    assert listed.returncode == 0, listed.stderr
    cells = [line.replace("│", " ").split() for line in listed.stdout.splitlines()]
    lines = [w for w in cells if w and w[0].isdigit()]
    assert [(w[0], w[1], w[2]) for w in lines] == [
        ("2", "update", "admin"),
        ("1", "create", "admin"),
    ]

    diff = hydra(server, "history", "report", "--diff", "2")
    assert diff.returncode == 0, diff.stderr
    assert '-    "script": "echo one",' in diff.stdout or '-    "script": "echo one"' in diff.stdout
    assert '+    "script": "echo two"' in diff.stdout

    declined = hydra(server, "restore", "report", "1", input_text="n\n")
    assert declined.returncode == 1 and admin.get_job(job["id"])["version"] == 2
    done = hydra(server, "restore", "report", "1", "--yes")
    assert done.returncode == 0, done.stderr
    assert "restored job report to version 1 (now version 3)" in done.stdout
    assert admin.get_job(job["id"])["executor"]["script"] == "echo one"


def test_submitting_an_unchanged_file_keeps_the_version(server: Server, tmp_path: Path) -> None:
    """A resubmitted job file made a version that "changed nothing in the spec"."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps(spec("echo one")))
    first = hydra(server, "submit", str(path))
    assert first.returncode == 0 and "created job report" in first.stdout, first.stderr
    again = hydra(server, "submit", str(path))
    assert again.returncode == 0 and "unchanged job report" in again.stdout, again.stderr
    job = server.client.find_job("report")
    assert job is not None and job["version"] == 1
    assert [v["version"] for v in server.client.job_versions(job["id"])["items"]] == [1]
    path.write_text(json.dumps(spec("echo two")))
    changed = hydra(server, "submit", str(path))
    assert changed.returncode == 0 and "updated job report" in changed.stdout, changed.stderr
    assert server.client.get_job(job["id"])["version"] == 2
