"""A2 in docs/reliability.md: every route of the OpenAPI schema x {none, revoked, B's owner, A's
viewer, operator, editor and owner, admin}.

The routes come from the running app's schema, each with the role it declares (`x-hydra-role`),
so a new route that declares none, or that nobody taught this matrix how to call, fails the test,
and so does one that forgets to scope by domain or to check the role. Domain A is `default` (the
embedded worker's), B is `b`. What must hold:
- no token and a revoked token: 401 everywhere;
- admin routes: 403 for every domain token, success for the admin (draining the embedded worker
  is one for domain tokens too: it serves every domain, so `default`'s tokens do not own it);
- a token of A whose role is below the route's: 403; at or above it: success;
- routes naming an object of A (job, run, worker, A itself): B's owner gets 404;
- routes naming no object: B's owner succeeds but sees nothing of A's.
"Succeed" means anything but 401/403/404: a 409 for cancelling a finished run is a right answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hydra_jobs.client import Client
from hydra_jobs.tenancy import ROLE_ORDER, Role
from tests.conftest import ADMIN, Server, wait_for

API = "/api/v1"
ROLES = [r.value for r in ROLE_ORDER]
CALLERS = ("none", "revoked", "B", *ROLES, "admin")
ADMIN_ONLY_HERE = {("POST", "/workers/{worker_id}/drain")}  # the worker is up's shared one
OBJECT_PARAMS = {"job_id", "run_id", "worker_id", "name"}  # `name`: domain A, on token routes
STREAMS = {"/events", "/runs/{run_id}/logs/stream"}
DENIED = {401, 403, 404}
NOT_AUDITED = {("POST", "/jobs/validate")}  # POST, but it changes nothing
READ_BY_POST: set[tuple[str, str]] = set()  # POST routes a viewer may call: none so far
# The server under test has no AI provider: these answer the documented 503 naming the keys.
NO_PROVIDER = {("POST", "/ai/generate")}
SPEC = {"name": "m", "executor": {"type": "shell", "script": "true"}}
SNOOZE = {"until": "2099-01-01T00:00:00Z"}
CHANNEL = {"name": "matrix", "type": "webhook", "url": "https://hooks.example.com/hydra"}


@dataclass
class World:
    server: Server
    tokens: dict[str, str | None]
    job_id: str
    run_id: str
    worker_id: str
    counter: int = 0

    def fresh(self) -> tuple[str, str]:
        """A job and a finished run of A, for a call that may change or delete them."""
        self.counter += 1
        client = self.server.client
        job = client.create_job({**SPEC, "name": f"m{self.counter}"})
        run = client.trigger(job["id"])
        wait_for(lambda: client.get_run(run["id"])["status"] == "succeeded", 15, message="run")
        return job["id"], run["id"]


def body_for(method: str, path: str, world: World) -> dict[str, Any] | None:
    bodies: dict[tuple[str, str], Callable[[], dict[str, Any] | None]] = {
        ("POST", "/jobs"): lambda: {**SPEC, "name": f"new{world.counter}-{id(object())}"},
        ("PUT", "/jobs/{job_id}"): lambda: SPEC,
        ("POST", "/jobs/validate"): lambda: SPEC,
        # Applied (a dry run changes nothing, so it leaves no audit record), into the caller's
        # domain, under a name of its own.
        ("POST", "/jobs/import"): lambda: {
            "jobs": [{**SPEC, "name": f"imported-{id(object())}"}],
            "dry_run": False,
        },
        ("POST", "/jobs/{job_id}/run"): lambda: {},
        ("POST", "/jobs/{job_id}/runs/batch"): lambda: {"runs": [{}]},
        ("POST", "/domains"): lambda: {"name": f"d{id(object())}"},
        ("PATCH", "/domains/{name}"): lambda: {"description": "x"},
        ("POST", "/domains/{name}/tokens"): lambda: {"name": "matrix", "role": "viewer"},
        ("PATCH", "/domains/{name}/tokens/{token_id}"): lambda: {"role": "viewer"},
        ("POST", "/ai/generate"): lambda: {"prompt": "x"},
        ("POST", "/runs/{run_id}/analyze"): lambda: {},
        ("POST", "/channels"): lambda: {**CHANNEL, "name": f"c{uuid.uuid4().hex[:12]}"},
        ("PUT", "/notify-rules"): lambda: {"rules": [], "maintenance": []},
        ("PUT", "/jobs/{job_id}/snooze"): lambda: SNOOZE,
    }
    if (method, path) in bodies:
        return bodies[(method, path)]()
    if method in {"POST", "PUT", "PATCH"}:
        known_without_body = {
            "/jobs/{job_id}/pause",
            "/jobs/{job_id}/resume",
            "/jobs/{job_id}/versions/{version}/restore",
            "/runs/{run_id}/cancel",
            "/runs/{run_id}/retry",
            "/workers/{worker_id}/drain",
            "/channels/{name}/test",
        }
        assert path in known_without_body, f"{method} {path} is not in the A2 matrix: add it"
    return None


def params_for(path: str, world: World, mutating: bool) -> dict[str, str]:
    needs_fresh = mutating and ("{job_id}" in path or "{run_id}" in path)
    job_id, run_id = world.fresh() if needs_fresh else (world.job_id, world.run_id)
    if path == "/jobs/{job_id}/snooze" and needs_fresh:  # snoozed, so unsnoozing it has work
        world.server.client._call("PUT", f"/jobs/{job_id}/snooze", json=SNOOZE)
    values = {
        "job_id": job_id,
        "run_id": run_id,
        "worker_id": world.worker_id,
        "name": "default",
        "version": "1",
    }
    if path.startswith("/channels/{name}"):  # a channel of A's, made for the call if it may go
        values["name"] = "matrix"
        if mutating:
            values["name"] = f"m{uuid.uuid4().hex[:12]}"
            world.server.client._call("POST", "/channels", json={**CHANNEL, "name": values["name"]})
    if "{token_id}" in path:
        values["token_id"] = world.server.client.create_token("default", "doomed", "operator")["id"]
    names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
    unknown = names - values.keys()
    assert not unknown, f"{path}: no value for {unknown} in the A2 matrix"
    return {k: values[k] for k in names}


def send(
    world: World, who: str, method: str, path: str, params: dict[str, str], body: Any
) -> httpx.Response:
    token = world.tokens[who]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = world.server.url + API + path.format(**params)
    query = {"cron": "* * * * *"} if path == "/schedules/preview" else None
    if path in STREAMS:
        # An open stream never ends: keep its status (and an error's body), not its events.
        with httpx.stream(method, url, headers=headers, params=query, timeout=10) as response:
            content = response.read() if response.status_code >= 400 else b""
            return httpx.Response(response.status_code, content=content)
    return httpx.request(method, url, headers=headers, params=query, json=body, timeout=15)


def test_a2_every_route_is_scoped(make_server: Callable[..., Server]) -> None:
    server = make_server()
    client = server.client
    client.create_domain("b")
    tokens_a = {r: client.create_token("default", r, r)["token"] for r in ROLES}
    token_b = client.create_token("b", "b", "owner")["token"]
    revoked = client.create_token("default", "revoked", "owner")
    client.revoke_token("default", revoked["id"])
    job = client.create_job({**SPEC, "name": "shared"})
    client._call("POST", "/channels", json=CHANNEL)
    client._call("PUT", f"/jobs/{job['id']}/snooze", json=SNOOZE)
    run = client.trigger(job["id"])
    wait_for(lambda: client.get_run(run["id"])["status"] == "succeeded", 15, message="run")
    # The embedded worker; draining it is the last call of the matrix (routes go in order).
    worker_id = wait_for(client.workers, 10, message="the worker")[0]["id"]
    world = World(
        server,
        {**tokens_a, "B": token_b, "none": None, "revoked": revoked["token"], "admin": ADMIN},
        job["id"],
        run["id"],
        worker_id,
    )
    schema = httpx.get(server.url + "/openapi.json").json()
    failures: list[str] = []
    changed: set[tuple[str, str]] = set()
    checked = 0
    for full_path, operations in sorted(schema["paths"].items()):
        if not full_path.startswith(API):
            continue
        path = full_path[len(API) :]
        for method, operation in operations.items():
            method = method.upper()
            declared = operation.get("x-hydra-role")
            if declared not in {*ROLES, "admin"}:
                failures.append(f"{method} {path} declares no role (needs(...) in its route)")
                continue
            if method != "GET" and declared == "viewer" and (method, path) not in READ_BY_POST:
                failures.append(f"{method} {path} changes something: viewer is not enough")
            needed = "admin" if (method, path) in ADMIN_ONLY_HERE else declared
            names_object = any(f"{{{p}}}" in path for p in OBJECT_PARAMS)
            mutating = method != "GET"
            for who in CALLERS:
                expect_success = _allowed(who, needed) and who != "B"
                params = params_for(path, world, mutating and expect_success)
                body = body_for(method, path, world)
                response = send(world, who, method, path, params, body)
                checked += 1
                problem = _judge(who, response, needed, names_object, world)
                if (method, path) in NO_PROVIDER and response.status_code == 503:
                    problem = None if "OPENAI_API_KEY" in response.text else problem
                if problem:
                    failures.append(f"{method} {path} as {who}: {problem}")
                if mutating and response.is_success:
                    changed.add((method, path))
    assert checked >= len(CALLERS) * 30, f"only {checked} calls: did the schema lose routes?"
    assert not failures, "\n".join(failures)
    # Every mutating call that succeeded left an audit record (in the domain it changed).
    audited = set()
    for domain in [d["name"] for d in client.list_domains()]:
        entries = Client(server.url, ADMIN, domain=domain).audit(limit=500)["items"]
        audited |= {(e["details"]["method"], e["details"]["route"]) for e in entries}
    missing = changed - audited - NOT_AUDITED
    assert not missing, f"mutating calls with no audit record: {sorted(missing)}"


def _allowed(who: str, needed: str) -> bool:
    """Whether the caller's role reaches the route's (B is an owner, of another domain)."""
    if who == "admin":
        return True
    if who in ("none", "revoked") or needed == "admin":
        return False
    role = Role.owner if who == "B" else Role(who)
    return role.allows(Role(needed))


def _judge(
    who: str, response: httpx.Response, needed: str, names_object: bool, world: World
) -> str | None:
    code = response.status_code
    if code >= 500 and code != 501:
        return f"server error {code}"
    if who in ("none", "revoked"):
        return None if code == 401 else f"expected 401, got {code}"
    if not _allowed(who, needed):
        return None if code == 403 else f"expected 403 (needs {needed}), got {code}"
    if who == "B" and names_object:
        return None if code == 404 else f"expected 404 for A's object, got {code}"
    if code in DENIED:
        return f"denied with {code}: {response.text[:200]}"
    if who == "B":
        text = response.text
        if world.job_id in text or world.run_id in text:
            return "B's answer shows A's objects"
    return None
