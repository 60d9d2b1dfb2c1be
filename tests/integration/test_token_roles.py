"""Token roles through the real API (issue 17): what each role may do, and what a hostile domain
token cannot do: raise its own role, give more than it holds, reach another domain's tokens.

The full route x role table is test_auth_matrix.py; these are the stories around it.
"""

from __future__ import annotations

from typing import Any

import httpx

from hydra_jobs.client import Client
from tests.conftest import ADMIN, Server, wait_for

JOB = {"name": "hello", "executor": {"type": "shell", "script": "echo hello"}}


def call(server: Server, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(
        method, f"{server.url}/api/v1{path}", headers=headers, timeout=15, **kwargs
    )


def test_a_token_without_a_role_is_an_owner_as_before_roles_and_a_bad_role_is_refused(
    server: Server,
) -> None:
    wrong = call(
        server, "POST", "/domains/default/tokens", ADMIN, json={"name": "ci", "role": "god"}
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "role"]
    assert server.client.list_tokens("default") == []
    # The API contract predates roles: a client that names none gets what every token was.
    legacy = call(server, "POST", "/domains/default/tokens", ADMIN, json={"name": "old-client"})
    assert legacy.status_code == 201, legacy.text
    assert legacy.json()["role"] == "owner"
    assert [t["role"] for t in server.client.list_tokens("default")] == ["owner"]


def test_each_role_does_what_it_may_and_me_says_which(server: Server) -> None:
    admin = server.client
    job = admin.create_job(JOB)
    secrets = {r: admin.create_token("default", r, r)["token"] for r in ("viewer", "operator")}
    viewer, operator = (
        Client(server.url, secrets["viewer"]),
        Client(server.url, secrets["operator"]),
    )
    assert viewer.me()["role"] == "viewer" and admin.me()["role"] == "owner"
    assert [j["id"] for j in viewer.list_jobs()["items"]] == [job["id"]]
    refused = call(server, "POST", f"/jobs/{job['id']}/run", secrets["viewer"])
    assert refused.status_code == 403
    assert (
        "needs the operator role" in refused.json()["detail"]
        and "a viewer" in refused.json()["detail"]
    )
    run = operator.trigger(job["id"])
    wait_for(lambda: viewer.get_run(run["id"])["status"] == "succeeded", 15, message="run")
    assert call(server, "DELETE", f"/jobs/{job['id']}", secrets["operator"]).status_code == 403
    assert call(server, "POST", "/jobs", secrets["operator"], json=JOB).status_code == 403
    assert admin.get_job(job["id"])["name"] == "hello"  # nothing was deleted


def test_a_hostile_token_cannot_raise_itself_or_reach_other_domains(server: Server) -> None:
    admin = server.client
    admin.create_domain("other")
    editor = admin.create_token("default", "editor", "editor")
    owner = admin.create_token("default", "boss", "owner")
    theirs = admin.create_token("other", "theirs", "owner")
    # An editor cannot touch tokens at all: not its own role, not a new owner token.
    own = f"/domains/default/tokens/{editor['id']}"
    assert call(server, "PATCH", own, editor["token"], json={"role": "owner"}).status_code == 403
    mint = {"name": "escalate", "role": "owner"}
    assert (
        call(server, "POST", "/domains/default/tokens", editor["token"], json=mint).status_code
        == 403
    )
    assert Client(server.url, editor["token"]).me()["role"] == "editor"
    # An owner manages its own domain's tokens and may mint owners, but not change its own role
    # (nor lock the domain out), and another domain's tokens are not found, by any path.
    minted = call(server, "POST", "/domains/default/tokens", owner["token"], json=mint)
    assert minted.status_code == 201 and minted.json()["role"] == "owner"
    assert minted.json()["created_by"] == "token:boss"
    mine = f"/domains/default/tokens/{owner['id']}"
    assert call(server, "PATCH", mine, owner["token"], json={"role": "viewer"}).status_code == 409
    other_path = f"/domains/other/tokens/{theirs['id']}"
    via_own = f"/domains/default/tokens/{theirs['id']}"
    for method, path, body in [
        ("GET", "/domains/other/tokens", None),
        ("POST", "/domains/other/tokens", mint),
        ("PATCH", other_path, {"role": "viewer"}),
        ("DELETE", other_path, None),
        ("PATCH", via_own, {"role": "viewer"}),
        ("DELETE", via_own, None),
    ]:
        response = call(server, method, path, owner["token"], json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert admin.list_tokens("other")[0]["role"] == "owner"
    assert admin.list_tokens("other")[0]["revoked_at"] is None
    # Domains themselves stay the admin's.
    assert call(server, "GET", "/domains", owner["token"]).status_code == 403
    assert call(server, "DELETE", "/domains/default", owner["token"]).status_code == 403


def test_a_role_change_holds_at_once_and_is_audited(server: Server) -> None:
    admin = server.client
    job = admin.create_job(JOB)
    token = admin.create_token("default", "ci", "operator")
    assert call(server, "POST", f"/jobs/{job['id']}/pause", token["token"]).status_code == 200
    changed = admin.set_token_role("default", token["id"], "viewer")
    assert changed["role"] == "viewer"
    assert call(server, "POST", f"/jobs/{job['id']}/resume", token["token"]).status_code == 403
    [entry] = admin.audit(action="domains.update_token")["items"]
    assert entry["object_type"] == "token" and entry["object_id"] == token["id"]
    assert entry["details"]["role"] == "viewer" and entry["details"]["previous_role"] == "operator"
    [made] = admin.audit(action="domains.create_token", object_id=token["id"])["items"]
    assert made["details"]["role"] == "operator"


def test_audit_filters_are_applied_by_the_server_with_paging(server: Server) -> None:
    admin = server.client
    ci = Client(server.url, admin.create_token("default", "ci", "editor")["token"])
    jobs = [ci.create_job({**JOB, "name": f"j{i}"}) for i in range(5)]
    admin.create_job({**JOB, "name": "by-admin"})
    first = admin.audit(limit=2, actor="token:ci", action="jobs.create_job")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = admin.audit(
        limit=10, actor="token:ci", action="jobs.create_job", cursor=first["next_cursor"]
    )
    names = [e["details"]["name"] for e in first["items"] + rest["items"]]
    assert names == [f"j{i}" for i in reversed(range(5))] and rest["next_cursor"] is None
    [one] = admin.audit(object_type="job", object_id=jobs[2]["id"])["items"]
    assert one["details"]["name"] == "j2"
    everything = admin.audit(limit=100)["items"]
    middle = everything[len(everything) // 2]["at"]
    newer = admin.audit(limit=100, since=middle)["items"]
    older = admin.audit(limit=100, until=middle)["items"]
    assert len(newer) + len(older) == len(everything)
    assert all(e["at"] >= middle for e in newer) and all(e["at"] < middle for e in older)
    bad = call(server, "GET", f"/audit?since={middle}&until={middle}", ADMIN)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "since"]
