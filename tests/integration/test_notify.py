"""Notifications end to end on a real scheduler: real runs, a real local HTTP receiver, the
outbox's retries, signatures, rules, mutes, the delivery log and metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hydra_jobs.client import ApiError
from hydra_jobs.notify.signing import verify
from tests.conftest import Server, wait_for
from tests.receivers import HttpReceiver

SECRET = "a-webhook-secret-of-32-characters"
FAST = {
    "HYDRA_NOTIFY_RETRY_SECONDS": 0.2,
    "HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS": True,
    "HYDRA_PUBLIC_URL": "https://hydra.example.org",
}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def srv(make_server: Callable[..., Server]) -> Server:
    return make_server(**FAST)


def _hook(server: Server, receiver: HttpReceiver, name: str = "ops", **more: Any) -> None:
    server.client.create_channel(
        {"name": name, "type": "webhook", "url": receiver.url, "secret": SECRET, **more}
    )


def _deliveries(server: Server, **filters: str) -> list[dict[str, Any]]:
    return server.client.deliveries(**filters)


def _settled(server: Server, count: int, **filters: str) -> list[dict[str, Any]]:
    """Wait until `count` deliveries match and none of them is still pending."""

    def done() -> list[dict[str, Any]] | None:
        found = _deliveries(server, **filters)
        if len(found) >= count and all(d["status"] != "pending" for d in found):
            return found
        return None

    return list(wait_for(done, 30, 0.1, message=f"{count} settled deliveries {filters}"))


def _run(server: Server, job: dict[str, Any]) -> dict[str, Any]:
    return server.wait_run(server.client.trigger(job["id"])["id"])


def test_a_failed_run_is_delivered_after_the_receiver_fails_twice(
    srv: Server, receiver: HttpReceiver
) -> None:
    receiver.fail_first = 2
    _hook(srv, receiver)
    job = srv.job(
        "nightly",
        "exit 3",
        env={"DB_PASSWORD": "hunter2-env-value"},
        notify=[{"channel": "ops", "on": ["failed"]}],
    )
    run = _run(srv, job)
    [delivery] = _settled(srv, 1, run_id=run["id"])
    assert delivery["status"] == "sent" and delivery["attempts"] == 3
    assert delivery["response_code"] == 200 and delivery["event"] == "failed"

    assert [r.answered for r in receiver.requests] == [503, 503, 200]
    keys = {r.headers["X-Hydra-Delivery"] for r in receiver.requests}
    assert keys == {delivery["dedup_key"]} == {f"default/ops/failed/{run['id']}"}
    for r in receiver.requests:
        assert verify(
            SECRET,
            r.headers["X-Hydra-Timestamp"],
            r.headers["X-Hydra-Signature"],
            r.body,
            now=time.time(),
        )
        assert not verify(
            "wrong-secret-wrong-secret",
            r.headers["X-Hydra-Timestamp"],
            r.headers["X-Hydra-Signature"],
            r.body,
            now=time.time(),
        )
    body = receiver.requests[-1].json()
    assert body["run"]["id"] == run["id"] and body["run"]["exit_code"] == 3
    assert body["url"] == f"https://hydra.example.org/runs/{run['id']}"
    raw = b"".join(r.body for r in receiver.requests)
    assert b"hunter2-env-value" not in raw and SECRET.encode() not in raw

    # The channel's log shows it too, and the metrics count it by channel type.
    assert srv.client.deliveries(channel="ops")[0]["id"] == delivery["id"]
    metrics = httpx.get(srv.url + "/metrics").text
    assert 'hydra_notifications_sent{type="webhook"} 1.0' in metrics
    assert 'hydra_notification_attempts_failed{type="webhook"} 2.0' in metrics


def test_a_delivery_is_given_up_after_the_limit_and_shown_failed(
    make_server: Callable[..., Server], receiver: HttpReceiver
) -> None:
    srv = make_server(**FAST, HYDRA_NOTIFY_MAX_ATTEMPTS=3)
    receiver.failing = True
    _hook(srv, receiver)
    job = srv.job("flaky", "exit 1", notify=[{"channel": "ops", "on": ["failed"]}])
    run = _run(srv, job)
    [delivery] = _settled(srv, 1, run_id=run["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert delivery["response_code"] == 503 and "503" in delivery["error"]
    assert len(receiver.requests) == 3
    metrics = httpx.get(srv.url + "/metrics").text
    assert 'hydra_notifications_failed{type="webhook"} 1.0' in metrics


def test_a_4xx_is_not_retried_and_a_private_target_is_refused_by_default(
    make_server: Callable[..., Server], receiver: HttpReceiver
) -> None:
    strict = make_server(HYDRA_NOTIFY_RETRY_SECONDS=0.2)  # private hosts not allowed
    _hook(strict, receiver)
    delivery = strict.client.test_channel("ops")
    [done] = _settled(strict, 1, channel="ops")
    assert done["id"] == delivery["id"] and done["status"] == "failed" and done["attempts"] == 1
    assert "HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS" in done["error"] and receiver.requests == []

    srv = make_server(**FAST)
    receiver.failing, receiver.fail_code = True, 404
    _hook(srv, receiver)
    srv.client.test_channel("ops")
    [gone] = _settled(srv, 1, channel="ops")
    assert gone["status"] == "failed" and gone["attempts"] == 1 and gone["response_code"] == 404


def test_channel_secrets_are_write_only(srv: Server, receiver: HttpReceiver) -> None:
    _hook(srv, receiver)
    srv.client.create_channel(
        {"name": "slack", "type": "slack", "url": receiver.url + "/T0/B0/slack-secret-part"}
    )
    shown = str(srv.client.list_channels()) + str(srv.client.audit())
    assert SECRET not in shown and "slack-secret-part" not in shown
    [hook] = [c for c in srv.client.list_channels() if c["name"] == "ops"]
    assert hook["has_secret"] and hook["type"] == "webhook"
    with pytest.raises(ApiError) as conflict:
        _hook(srv, receiver)
    assert conflict.value.status_code == 409
    with pytest.raises(ApiError) as bad:
        srv.client.create_channel({"name": "x", "type": "webhook", "url": "ftp://example.org"})
    assert bad.value.status_code == 422 and "url" in str(bad.value.detail)
    with pytest.raises(ApiError) as short:
        srv.client.create_channel(
            {"name": "x", "type": "webhook", "url": receiver.url, "secret": "short"}
        )
    assert short.value.status_code == 422
    # A rule must name a channel of the domain.
    with pytest.raises(ApiError) as unknown:
        srv.job("j", "true", notify=[{"channel": "nope", "on": ["failed"]}])
    assert unknown.value.status_code == 422 and "notify" in str(unknown.value.detail)


def test_send_test_shows_in_the_delivery_log(srv: Server, receiver: HttpReceiver) -> None:
    _hook(srv, receiver)
    sent = srv.client.test_channel("ops")
    assert sent["status"] == "pending" and sent["event"] == "test"
    [done] = _settled(srv, 1, channel="ops")
    assert done["status"] == "sent" and done["response_code"] == 200
    assert receiver.requests[0].headers["X-Hydra-Event"] == "test"


def test_events_from_real_runs(srv: Server, receiver: HttpReceiver) -> None:
    _hook(srv, receiver)
    rules = [
        {
            "channel": "ops",
            "on": [
                "failed",
                "timed_out",
                "recovered",
                "retries_exhausted",
                "too_fast",
                "succeeded",
            ],
            "shorter_than_seconds": 30,
        }
    ]
    flag = srv.data_dir.parent / "ok-now"
    job = srv.job(
        "toggler",
        f"test -e {flag}",
        notify=rules,
        retries={"max_attempts": 2, "backoff_seconds": 0.1, "jitter": 0},
    )
    first = _run(srv, job)
    retry = wait_for(
        lambda: [r for r in srv.client.list_runs(job_id=job["id"])["items"] if r["attempt"] == 2],
        20,
        message="the retry",
    )[0]
    srv.wait_run(retry["id"])
    flag.write_text("")
    ok = _run(srv, job)
    slow = srv.job(
        "slow", "sleep 5", timeout_seconds=0.5, notify=[{"channel": "ops", "on": ["timed_out"]}]
    )
    timed = _run(srv, slow)
    assert timed["status"] == "timed_out"

    found = _settled(srv, 7)
    events = {(d["run_id"], d["event"]) for d in found}
    assert (first["id"], "failed") in events
    assert (first["id"], "retries_exhausted") not in events  # a retry was still owed
    assert (retry["id"], "failed") in events and (retry["id"], "retries_exhausted") in events
    assert {(ok["id"], e) for e in ("succeeded", "recovered", "too_fast")} <= events
    assert (timed["id"], "timed_out") in events
    assert all(d["status"] == "sent" for d in found)
    assert len(receiver.accepted) == len(found)


def test_consecutive_failure_threshold_and_realert_interval(
    srv: Server, receiver: HttpReceiver
) -> None:
    _hook(srv, receiver)
    rule = {"channel": "ops", "on": ["failed"], "after_failures": 3, "realert_seconds": 3600}
    job = srv.job("broken", "exit 1", notify=[rule])
    runs = [_run(srv, job) for _ in range(4)]
    found = _settled(srv, 2, job_id=job["id"])
    by_run = {d["run_id"]: d for d in found}
    assert runs[0]["id"] not in by_run and runs[1]["id"] not in by_run  # 1st, 2nd: below
    assert by_run[runs[2]["id"]]["status"] == "sent"  # the 3rd failure in a row alerts
    assert by_run[runs[3]["id"]]["status"] == "suppressed"  # within the re-alert interval
    assert "quiet until" in by_run[runs[3]["id"]]["note"]
    assert len(receiver.requests) == 1


def test_maintenance_window_and_snooze_mute_and_show_it(
    srv: Server, receiver: HttpReceiver
) -> None:
    _hook(srv, receiver)
    now = datetime.now(UTC)
    window = {
        "start": (now - timedelta(minutes=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
        "reason": "db upgrade",
    }
    rules = srv.client.set_notify_rules(
        {"rules": [{"channel": "ops", "on": ["failed"]}], "maintenance": [window]}
    )
    assert rules["muted_now"] is True
    job = srv.job("maint", "exit 1")  # only the domain's rule applies
    run = _run(srv, job)
    [muted] = _settled(srv, 1, run_id=run["id"])
    assert muted["status"] == "muted" and "db upgrade" in muted["note"]

    srv.client.set_notify_rules({"rules": [{"channel": "ops", "on": ["failed"]}]})
    until = (now + timedelta(hours=2)).isoformat()
    srv.client.snooze(job["id"], until, reason="known issue")
    assert [s["job_id"] for s in srv.client.snoozes()] == [job["id"]]
    run2 = _run(srv, job)
    [snoozed] = _settled(srv, 1, run_id=run2["id"])
    assert snoozed["status"] == "muted" and "snoozed" in snoozed["note"]

    srv.client.unsnooze(job["id"])
    assert srv.client.snoozes() == []
    run3 = _run(srv, job)
    [sent] = _settled(srv, 1, run_id=run3["id"])
    assert sent["status"] == "sent" and len(receiver.requests) == 1

    # A job that opts out of the domain's rules gets none of them.
    quiet = srv.job("quiet", "exit 1", domain_notify=False)
    run4 = _run(srv, quiet)
    time.sleep(0.5)  # nothing to wait for: assert it stays empty past the hook
    assert _deliveries(srv, run_id=run4["id"]) == []


def test_the_leader_pings_the_heartbeat_url(
    make_server: Callable[..., Server], receiver: HttpReceiver
) -> None:
    srv = make_server(
        HYDRA_HEARTBEAT_URL=receiver.url + "/ping/check-key", HYDRA_HEARTBEAT_PING_SECONDS=1
    )
    wait_for(lambda: len(receiver.requests) >= 2, 20, 0.1, message="two heartbeat pings")
    assert all(r.path == "/hook/ping/check-key" for r in receiver.requests)
    metrics = httpx.get(srv.url + "/metrics").text
    assert "hydra_heartbeat_pings " in metrics and "hydra_heartbeat_ping_failures 0.0" in metrics
