"""Workers authenticate with a domain token (issue: tenancy), as real processes on real Redis.

A worker refuses to start, with a message that says what to fix, when its API_TOKEN is not a
token, is unknown or revoked, has a wrong secret, or belongs to another domain than
WORKER_DOMAIN. A running worker whose token is revoked takes no more work and exits (code 3);
its reports are refused by the schedulers meanwhile, so its runs are retried elsewhere.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hydra_jobs.tokens import mint
from tests.cluster import Cluster, all_runs
from tests.conftest import TERMINAL, wait_for
from tests.procs import HYDRA, cli_env


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


def start_worker(cluster: Cluster, token: str, domain: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(
        REDIS_URL=cluster.redis_url,
        API_TOKEN=token,
        WORKER_DOMAIN=domain,
        HYDRA_WORKER_AUTH_WAIT_SECONDS="5",
    )
    return subprocess.run(
        [HYDRA, "worker", "--name", "refused"], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_worker_with_a_wrong_token_refuses_to_start(cluster: Cluster) -> None:
    cluster.scheduler()
    ops_token = cluster.token("ops")
    wrong_domain = start_worker(cluster, ops_token, "default")
    assert wrong_domain.returncode == 1
    assert "belongs to domain 'ops', but WORKER_DOMAIN is 'default'" in wrong_domain.stderr
    unknown = start_worker(cluster, mint().value, "default")
    assert unknown.returncode == 1 and "unknown or was revoked" in unknown.stderr
    head, _, secret = ops_token.rpartition("_")
    wrong_secret = head + "_" + ("A" if secret[0] != "A" else "B") + secret[1:]
    tampered = start_worker(cluster, wrong_secret, "ops")
    assert tampered.returncode == 1 and "secret does not match" in tampered.stderr
    for result in (wrong_domain, unknown, tampered):
        assert ops_token not in result.stderr + result.stdout  # never echoes a secret
    assert not cluster.client().workers()  # none of them ever registered


def test_a_viewer_token_cannot_run_a_worker_until_it_is_made_an_operator(cluster: Cluster) -> None:
    """A worker runs the domain's jobs and reports their ends: more than reading."""
    cluster.scheduler()
    client = cluster.client()
    viewer = client.create_token("default", "looker", "viewer")
    refused = start_worker(cluster, viewer["token"], "default")
    assert refused.returncode == 1 and "its role is viewer" in refused.stderr, refused.stderr
    assert not client.workers()
    client.set_token_role("default", viewer["id"], "operator")
    worker = cluster.worker("promoted", 1, API_TOKEN=viewer["token"])
    job = client.create_job({"name": "v", "executor": {"type": "shell", "script": "echo ok"}})
    run = client.trigger(job["id"])
    wait_for(lambda: client.get_run(run["id"])["status"] in TERMINAL, 40, message="run")
    assert client.get_run(run["id"])["status"] == "succeeded"
    assert worker.alive()


def test_a_worker_waits_for_credentials_then_starts(cluster: Cluster) -> None:
    """Redis flushed (or not yet filled): the worker waits, the scheduler republishes, it runs."""
    cluster.scheduler()
    token = cluster.token("default")
    cluster.redis().delete("hydra:creds", "hydra:creds-complete")
    worker = cluster.worker("patient", 2, API_TOKEN=token)
    client = cluster.client()
    job = client.create_job({"name": "w", "executor": {"type": "shell", "script": "echo ok"}})
    run = client.trigger(job["id"])
    done = wait_for(lambda: client.get_run(run["id"])["status"] in TERMINAL, 40, message="run")
    assert done is True and client.get_run(run["id"])["status"] == "succeeded"
    # The admin sees the worker's token in use.
    [listed] = [t for t in client.list_tokens("default") if t["name"] == "workers"]
    assert listed["last_used_at"] is not None
    assert "waiting for a scheduler to publish" in worker.output() or worker.alive()


def test_a_revoked_workers_token_stops_it_and_its_run_is_retried(cluster: Cluster) -> None:
    cluster.scheduler()
    client = cluster.client()
    created = client.create_token("default", "doomed-worker", "operator")
    doomed = cluster.worker("doomed", 2, API_TOKEN=created["token"])
    job = client.create_job(
        {
            "name": "long",
            "executor": {"type": "shell", "script": "sleep 3; echo done"},
            "retries": {"max_attempts": 3, "backoff_seconds": 0},
        }
    )
    first = client.trigger(job["id"])
    wait_for(lambda: client.get_run(first["id"])["status"] == "running", 20, message="running")
    client.revoke_token("default", created["id"])
    assert doomed.proc is not None
    assert doomed.proc.wait(20) == 3, doomed.output()
    assert "API_TOKEN was revoked" in doomed.output()
    # Nothing new reaches it, and its run is retried on a worker with a valid token.
    cluster.worker("healthy", 2)
    second = client.trigger(job["id"])
    wait_for(lambda: client.get_run(second["id"])["status"] == "succeeded", 30, message="new run")
    assert client.get_run(second["id"])["worker_id"].startswith("healthy-")

    def retried_ok() -> bool:
        chain = [r for r in all_runs(client, job["id"]) if r["id"] != second["id"]]
        return any(r["status"] == "succeeded" and r["attempt"] > 1 for r in chain)

    wait_for(retried_ok, 40, message="the revoked worker's run retried")
    first_final = client.get_run(first["id"])
    assert first_final["status"] != "succeeded", "a revoked worker's report was accepted"


def test_revocation_holds_at_once_on_every_replica(cluster: Cluster) -> None:
    first, second = cluster.scheduler(), cluster.scheduler()
    created = cluster.client(0).create_token("default", "roaming", "operator")
    headers = {"Authorization": f"Bearer {created['token']}"}
    for replica in (first, second):
        assert httpx.get(replica.url + "/api/v1/me", headers=headers).status_code == 200
    cluster.client(0).revoke_token("default", created["id"])
    for replica in (second, first):  # no wait: the very next call is refused everywhere
        assert httpx.get(replica.url + "/api/v1/jobs", headers=headers).status_code == 401
