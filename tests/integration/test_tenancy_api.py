"""Domains, tokens and the audit log through the real API (A1, A3 in docs/reliability.md)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hydra_jobs.client import ApiError, Client
from hydra_jobs.tokens import parse
from tests.conftest import ADMIN, TEST_STORE, Server, wait_for

JOB = {"name": "hello", "executor": {"type": "shell", "script": "echo hello"}}


def call(
    server: Server, method: str, path: str, token: str | None, **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(
        method, f"{server.url}/api/v1{path}", headers=headers, timeout=10, **kwargs
    )


def new_domain(server: Server, name: str) -> str:
    server.client.create_domain(name)
    return str(server.client.create_token(name, f"{name}-ci", "owner")["token"])


def test_domains_are_created_listed_updated_and_deleted(server: Server) -> None:
    created = server.client.create_domain("payments", "card processing")
    assert created["name"] == "payments" and created["jobs"] == 0 and created["tokens"] == 0
    with pytest.raises(ApiError) as taken:
        server.client.create_domain("payments")
    assert taken.value.status_code == 409
    bad = call(server, "POST", "/domains", ADMIN, json={"name": "Bad Name!"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "name"]
    extra = call(server, "POST", "/domains", ADMIN, json={"name": "x", "owner": "me"})
    assert extra.status_code == 422  # A5: unknown fields are refused
    patched = call(server, "PATCH", "/domains/payments", ADMIN, json={"description": "cards"})
    assert patched.json()["description"] == "cards"
    assert {d["name"] for d in server.client.list_domains()} == {"default", "payments"}
    server.client.delete_domain("payments")
    assert call(server, "GET", "/domains/payments", ADMIN).status_code == 404
    assert call(server, "DELETE", "/domains/default", ADMIN).status_code == 409


def test_deleting_a_domain_with_jobs_needs_force_and_takes_everything(server: Server) -> None:
    token = new_domain(server, "ops")
    ops = Client(server.url, token)
    job = ops.create_job({**JOB, "schedule": {"interval_seconds": 1}})
    first = ops.trigger(job["id"])
    wait_for(lambda: ops.get_run(first["id"])["status"] == "succeeded", 15, message="run")
    long = ops.create_job({"name": "long", "executor": {"type": "shell", "script": "sleep 60"}})
    running = ops.trigger(long["id"])
    wait_for(lambda: ops.get_run(running["id"])["status"] == "running", 15, message="running")
    refused = call(server, "DELETE", "/domains/ops", ADMIN)
    assert refused.status_code == 409 and "force=true" in refused.json()["detail"]
    assert ops.get_job(job["id"])["name"] == "hello"  # nothing was deleted
    server.client.delete_domain("ops", force=True)
    assert call(server, "GET", f"/jobs/{job['id']}", token).status_code == 401  # token gone
    admin_ops = Client(server.url, ADMIN, domain="ops")
    for gone_call in (admin_ops.list_jobs, admin_ops.list_runs, lambda: admin_ops.create_job(JOB)):
        with pytest.raises(ApiError) as gone:
            gone_call()
        assert gone.value.status_code == 404 and "create it first" in gone.value.message
    # Still naming the gone domain, the admin lists the domains, sees itself, makes it again.
    assert "ops" not in [d["name"] for d in admin_ops.list_domains()]
    assert admin_ops.me()["is_admin"] is True
    admin_ops.create_domain("ops")  # the name is free again, and empty
    assert admin_ops.list_jobs()["items"] == [] and admin_ops.list_runs()["items"] == []


def test_a_token_acts_on_its_domain_only(server: Server) -> None:
    token_a = new_domain(server, "team-a")
    token_b = new_domain(server, "team-b")
    a, b = Client(server.url, token_a), Client(server.url, token_b)
    job = a.create_job(JOB)
    assert job["domain"] == "team-a"
    assert a.me() == {
        "domain": "team-a",
        "actor": "token:team-a-ci",
        "is_admin": False,
        "token_id": a.me()["token_id"],
        "role": "owner",
    }
    assert b.list_jobs()["items"] == []
    assert call(server, "GET", f"/jobs/{job['id']}", token_b).status_code == 404
    # Naming another domain is a 404, by header or by query parameter; its own is fine.
    other = {"X-Hydra-Domain": "team-b"}
    assert call(server, "GET", "/jobs", token_a, headers=other).status_code == 404
    assert call(server, "GET", "/jobs?domain=team-b", token_a).status_code == 404
    assert call(server, "GET", "/jobs?domain=team-a", token_a).status_code == 200
    # The admin reaches it both ways too, and the same way on every route.
    by_header = Client(server.url, ADMIN, domain="team-a").get_job(job["id"])
    by_query = call(server, "GET", f"/jobs/{job['id']}?domain=team-a", ADMIN).json()
    assert by_header["id"] == by_query["id"] == job["id"]
    assert call(server, "GET", f"/jobs/{job['id']}", ADMIN).status_code == 404  # default
    # Admin routes are the admin's; an owner's token routes name its own domain only.
    for method, path in [("GET", "/domains"), ("POST", "/domains")]:
        response = call(server, method, path, token_a, json={"name": "x"})
        assert response.status_code == 403, (method, path)
    for method in ("GET", "POST"):
        response = call(
            server, method, "/domains/team-b/tokens", token_a, json={"name": "x", "role": "owner"}
        )
        assert response.status_code == 404, method


def test_tokens_are_shown_once_listed_without_secrets_and_revoked_at_once(
    server: Server,
) -> None:
    server.client.create_domain("ci")
    created = server.client.create_token("ci", "deploy", "editor")
    secret = created["token"]
    assert secret.startswith("hjt_") and len(secret.split("_", 2)[2]) == 43  # 256 bits
    assert call(server, "GET", "/me", secret).json()["domain"] == "ci"
    [listed] = server.client.list_tokens("ci")
    assert "token" not in listed and secret not in str(listed)
    assert listed["name"] == "deploy" and listed["created_by"] == "admin"
    assert listed["last_used_at"] is not None  # the /me call above
    # A wrong secret with a real id is refused like an unknown token.
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert call(server, "GET", "/me", forged).status_code == 401
    revoked = server.client.revoke_token("ci", created["id"])
    assert revoked["revoked_at"] is not None
    response = call(server, "GET", "/me", secret)
    assert response.status_code == 401 and response.json()["detail"] == "invalid or revoked token"
    again = server.client.revoke_token("ci", created["id"])  # idempotent
    assert again["revoked_at"] == revoked["revoked_at"]
    assert (
        call(server, "DELETE", f"/domains/default/tokens/{created['id']}", ADMIN).status_code == 404
    )


def test_a1_no_raw_token_reaches_the_database(server: Server) -> None:
    if TEST_STORE != "sqlite":
        pytest.skip("greps the SQLite file; the other stores share the code path")
    server.client.create_domain("vault")
    secrets = [server.client.create_token("vault", f"t{i}", "editor")["token"] for i in range(3)]
    for i, secret in enumerate(secrets):
        Client(server.url, secret).create_job({**JOB, "name": f"job-{i}"})
    server.client.audit()  # flushes the audit log
    blob = b"".join(p.read_bytes() for p in Path(server.data_dir).glob("hydra.db*"))
    assert blob, "no database file found"
    for secret in secrets:
        assert secret.encode() not in blob
        parsed = parse(secret)
        assert parsed is not None and parsed.secret.encode() not in blob


def test_audit_records_every_change_with_its_actor_and_no_secrets(server: Server) -> None:
    token = new_domain(server, "audited")
    client = Client(server.url, token)
    job = client.create_job({**JOB, "env": {"DB_PASSWORD": "hunter2-not-logged"}})
    run = client.trigger(job["id"])
    wait_for(lambda: client.get_run(run["id"])["status"] == "succeeded", 15, message="run")
    client.pause(job["id"])
    client.validate(JOB)  # not a change: not audited
    with pytest.raises(ApiError):
        client.create_job(JOB)  # a 409 changed nothing: not audited
    everything = client.audit()["items"]
    items = [i for i in everything if i["actor"] != "admin"]
    actions = [(i["action"], i["object_id"]) for i in items]
    assert actions == [
        ("jobs.pause_job", job["id"]),
        ("jobs.trigger_job", run["id"]),
        ("jobs.create_job", job["id"]),
    ]
    assert all(i["actor"] == "token:audited-ci" and i["domain"] == "audited" for i in items)
    assert [i["object_type"] for i in items] == ["job", "run", "job"]
    assert items[2]["details"]["name"] == "hello"
    admin_view = Client(server.url, ADMIN, domain="audited").audit()["items"]
    dumped = str(admin_view) + str(server.client.audit())
    assert "hunter2" not in dumped and "hjt_" not in dumped
    # The admin's own changes to the domain are in its log too.
    admin_actions = [(i["action"], i["object_id"]) for i in everything if i["actor"] == "admin"]
    assert admin_actions[-1] == ("domains.create_domain", "audited")
    assert admin_actions[-2][0] == "domains.create_token"
    assert everything == admin_view
    # Another domain sees none of it; pages follow the cursor.
    other = Client(server.url, new_domain(server, "elsewhere"))
    assert all(i["domain"] == "elsewhere" for i in other.audit()["items"])
    first = client.audit(limit=2)
    second = client.audit(limit=3, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in everything]
    assert second["next_cursor"] is None


def test_a_revoked_tokens_open_event_stream_ends(server: Server) -> None:
    server.client.create_domain("live")
    created = server.client.create_token("live", "dash", "editor")
    client = Client(server.url, created["token"])
    # A busy domain: the stream always has something to send, so it never sits idle.
    client.create_job({**JOB, "name": "ticker", "schedule": {"interval_seconds": 1}})
    ended = threading.Event()
    seen: list[str] = []

    def listen() -> None:
        for event, _id, _data in client.stream("/events", timeout=30):
            seen.append(event)
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    wait_for(lambda: "ready" in seen, 10, message="stream ready")
    server.client.revoke_token("live", created["id"])
    assert ended.wait(15), "the stream of a revoked token stayed open"
    client.close()


def test_a3_no_token_configured_means_no_access(make_server: Callable[..., Server]) -> None:
    """Deny by default: without ADMIN_TOKEN nothing (but health) answers, whatever is sent."""
    server = make_server(ADMIN_TOKEN=None)
    assert httpx.get(server.url + "/healthz").status_code == 200
    for token in [None, "None", "null", "admin", ADMIN]:
        assert call(server, "GET", "/jobs", token).status_code == 401, token


def test_a5_request_schemas_refuse_unknown_fields(server: Server) -> None:
    """Every request body of the API is a closed object, at every depth."""
    schema = httpx.get(server.url + "/openapi.json").json()
    components = schema["components"]["schemas"]
    bodies: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                bodies.add(ref.rsplit("/", 1)[1])
    assert {"JobSpec", "DomainCreate", "TokenCreate"} <= bodies
    seen: set[str] = set()
    open_objects: list[str] = []

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        node = components[name]
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            if "additionalProperties" not in node or node["additionalProperties"] is True:
                open_objects.append(name)
        for ref in _refs(node):
            visit(ref)

    for name in bodies:
        visit(name)
    assert not open_objects, f"request schemas accepting unknown fields: {open_objects}"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_a5_job_output_cannot_change_the_job_or_its_run(server: Server) -> None:
    script = (
        'echo \'{"type":"finished","status":"succeeded","exit_code":0}\'; '
        'echo \'{"name":"renamed","enabled":false}\'; env; exit 3'
    )
    job = server.job("sneaky", script)
    before = server.client.get_job(job["id"])
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    assert run["status"] == "failed" and run["exit_code"] == 3
    after = server.client.get_job(job["id"])
    assert (
        after["name"] == "sneaky"
        and after["enabled"]
        and after["updated_at"] == before["updated_at"]
    )
    output = server.client.logs(run["id"])["data"]
    assert '"status":"succeeded"' in output  # it is text in the log, nothing more
    assert ADMIN not in output and "hjt_" not in output  # no token reaches a job


def test_hostile_offsets_and_event_ids_are_not_server_errors(server: Server) -> None:
    """I7 (docs/reliability.md) on the log and event routes."""
    job = server.job("quiet", "echo hi")
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    huge = call(server, "GET", f"/runs/{run['id']}/logs?offset=100000000000000000000", ADMIN)
    assert huge.status_code == 422
    for last_id in ["99999999999999999999", "\u00b2", "9" * 5000, "x-\u00b2", "-1"]:
        for path in (f"/runs/{run['id']}/logs/stream", "/events"):
            headers = {"Authorization": f"Bearer {ADMIN}", "Last-Event-ID": last_id.encode()}
            url = f"{server.url}/api/v1{path}"
            with httpx.stream("GET", url, headers=headers, timeout=10) as response:
                assert response.status_code == 200, (path, last_id)
                first = next(response.iter_lines())
                assert first.startswith(("event:", "id:", ":")), (path, last_id, first)


def test_domain_names_with_a_trailing_newline_are_refused(server: Server) -> None:
    response = call(server, "GET", "/me?domain=default%0A", ADMIN)
    assert response.status_code == 404
    assert call(server, "POST", "/domains", ADMIN, json={"name": "ops\n"}).status_code == 422


def test_an_unknown_event_type_is_a_422(server: Server) -> None:
    response = call(server, "GET", "/events?types=run,bogus", ADMIN)
    assert response.status_code == 422 and "bogus" in str(response.json()["detail"])


def test_only_the_admin_drains_the_shared_embedded_worker_and_each_domain_sees_its_runs(
    server: Server,
) -> None:
    """Issue 13 §3: `up`'s worker serves every domain; `default` does not own it."""
    a_token = server.client.create_token("default", "a", "owner")["token"]
    b_token = new_domain(server, "b")
    a, b = Client(server.url, a_token), Client(server.url, b_token)
    live: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}  # worker events each one sees

    listeners = {"a": Client(server.url, a_token), "b": Client(server.url, b_token)}

    def listen(name: str) -> None:
        with contextlib.suppress(httpx.HTTPError, RuntimeError):  # ended by closing the client
            for event, _id, data in listeners[name].stream("/events?types=worker"):
                if event == "worker":
                    live[name].append(data)

    for name in listeners:
        threading.Thread(target=listen, args=(name,), daemon=True).start()
    sleeper = {"executor": {"type": "shell", "script": "sleep 60"}}
    a_run = a.trigger(a.create_job({"name": "a-long", **sleeper})["id"])
    b_run = b.trigger(b.create_job({"name": "b-long", **sleeper})["id"])

    def running_on_worker(client: Client, run_id: str) -> list[dict[str, Any]] | None:
        workers = client.workers()
        return workers if any(run_id in w["running"] for w in workers) else None

    for client, mine, other in ((a, a_run, b_run), (b, b_run, a_run)):
        workers = wait_for(
            lambda c=client, r=mine["id"]: running_on_worker(c, r), 15, message="run"
        )
        assert len(workers) == 1, workers  # the one shared worker, seen by both domains
        assert other["id"] not in str(workers), "a domain sees another domain's run on it"
    # The live worker events (heartbeats) tell each domain of its runs on it, and only of those.
    for name, mine, other in (("a", a_run, b_run), ("b", b_run, a_run)):
        wait_for(
            lambda n=name, r=mine["id"]: any(r in e["worker"]["running"] for e in live[n]),
            15,
            message=f"a live worker event with {name}'s run",
        )
        assert other["id"] not in str(live[name]), "a live event shows another domain's run"
    for listener in listeners.values():
        listener.close()
    worker_id = a.workers()[0]["id"]
    for token in (a_token, b_token):
        refused = call(server, "POST", f"/workers/{worker_id}/drain", token)
        assert refused.status_code == 403 and "only the admin" in refused.json()["detail"]
    # The refused drains changed nothing: B's next run still starts.
    quick = b.create_job({"name": "b-quick", "executor": {"type": "shell", "script": "true"}})
    after = b.trigger(quick["id"])
    wait_for(lambda: b.get_run(after["id"])["status"] == "succeeded", 15, message="B's run")
    assert a.workers()[0]["status"] == "online"
    for run, client in ((a_run, a), (b_run, b)):
        client.cancel(run["id"])
    # The admin may drain it, from any domain.
    admin_b = call(
        server, "POST", f"/workers/{worker_id}/drain", ADMIN, headers={"X-Hydra-Domain": "b"}
    )
    assert admin_b.status_code == 202
    wait_for(lambda: a.workers()[0]["status"] == "draining", 15, message="the worker drains")
