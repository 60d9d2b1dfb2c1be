"""The alert rules as pure functions: which events a fact owes, thresholds, mutes, re-alerts,
dedup keys, signatures, retry delays, and what the API shows of a channel."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hydra_jobs.alerts import (
    ChannelInfo,
    ChannelRecord,
    DeliveryStatus,
    MaintenanceWindow,
    NotifyRule,
)
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Run, Trigger
from hydra_jobs.notify import rules as R
from hydra_jobs.notify.deliverer import outcome, retry_delay
from hydra_jobs.notify.message import slack_body
from hydra_jobs.notify.senders import SendResult
from hydra_jobs.notify.signing import sign, verify
from hydra_jobs.status import RunStatus

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
F, S = RunStatus.FAILED, RunStatus.SUCCEEDED


def _run(status: RunStatus, *, took: float = 10.0, **fields: object) -> Run:
    spec = JobSpec(name="nightly", executor={"type": "shell", "script": "true"})  # type: ignore[arg-type]
    data: dict[str, object] = {
        "id": "r1",
        "job_id": "j1",
        "job_name": "nightly",
        "domain": "default",
        "status": status,
        "trigger": Trigger.SCHEDULE,
        "created_at": T0,
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=took),
        "spec": spec.model_dump(mode="json"),
    }
    data.update(fields)
    return Run.model_validate(data)


def _events(alerts: list[R.Alert]) -> list[str]:
    return [a.event.value for a in alerts]


def rule(*on: str, **options: object) -> NotifyRule:
    return NotifyRule.model_validate({"channel": "ops", "on": list(on), **options})


def test_each_outcome_gives_its_event() -> None:
    every = rule("failed", "timed_out", "lost", "succeeded", "retries_exhausted")
    for status, event in [
        (RunStatus.FAILED, "failed"),
        (RunStatus.TIMED_OUT, "timed_out"),
        (RunStatus.LOST, "lost"),
        (RunStatus.SUCCEEDED, "succeeded"),
    ]:
        got = R.alerts_for_ended(
            _run(status), [every], previous=[], will_retry=True, had_retries=True
        )
        assert _events(got) == [event]
    # Cancelled runs alert nobody.
    assert (
        R.alerts_for_ended(
            _run(RunStatus.CANCELLED), [every], previous=[], will_retry=False, had_retries=True
        )
        == []
    )


def test_retries_exhausted_only_on_the_last_attempt_of_a_retrying_job() -> None:
    r = rule("retries_exhausted")
    run = _run(F, attempt=3)
    assert _events(
        R.alerts_for_ended(run, [r], previous=[], will_retry=False, had_retries=True)
    ) == ["retries_exhausted"]
    assert R.alerts_for_ended(run, [r], previous=[], will_retry=True, had_retries=True) == []
    assert R.alerts_for_ended(run, [r], previous=[], will_retry=False, had_retries=False) == []


def test_consecutive_failure_threshold_and_recovery() -> None:
    r = rule("failed", "recovered", after_failures=3)
    kw: dict[str, bool] = {"will_retry": False, "had_retries": False}
    assert R.alerts_for_ended(_run(F), [r], previous=[], **kw) == []
    assert R.alerts_for_ended(_run(F), [r], previous=[F], **kw) == []
    third = R.alerts_for_ended(_run(F), [r], previous=[F, F, S, F], **kw)
    assert _events(third) == ["failed"] and "3 in a row" in third[0].summary
    assert _events(R.alerts_for_ended(_run(F), [r], previous=[F, F, F], **kw)) == ["failed"]
    # Recovery after an alerted streak; no news after a streak below the threshold.
    assert _events(R.alerts_for_ended(_run(S), [r], previous=[F, F, F, S], **kw)) == ["recovered"]
    assert R.alerts_for_ended(_run(S), [r], previous=[F, F, S], **kw) == []
    assert R.alerts_for_ended(_run(S), [r], previous=[S], **kw) == []


def test_too_fast_and_running_too_long() -> None:
    fast = rule("too_fast", shorter_than_seconds=5)
    kw: dict[str, bool] = {"will_retry": False, "had_retries": False}
    assert _events(R.alerts_for_ended(_run(S, took=1), [fast], previous=[], **kw)) == ["too_fast"]
    assert R.alerts_for_ended(_run(S, took=9), [fast], previous=[], **kw) == []
    assert R.alerts_for_ended(_run(F, took=1), [fast], previous=[], **kw) == []

    running = _run(RunStatus.RUNNING, finished_at=None)
    absolute = rule("running_too_long", longer_than_seconds=60)
    assert R.alerts_for_running(running, [absolute], T0 + timedelta(seconds=30), None) == []
    assert _events(R.alerts_for_running(running, [absolute], T0 + timedelta(seconds=61), None)) == [
        "running_too_long"
    ]
    relative = rule("running_too_long", longer_than_median=2)
    median = R.median_duration([10.0, 12.0, 11.0])
    assert median == 11.0 and R.median_duration([10.0, 12.0]) is None
    assert R.alerts_for_running(running, [relative], T0 + timedelta(seconds=21), median) == []
    late = R.alerts_for_running(running, [relative], T0 + timedelta(seconds=23), median)
    assert "2 times the median of 11.0 s" in late[0].summary
    assert R.alerts_for_running(running, [relative], T0 + timedelta(hours=1), None) == []


def test_not_started_counts_from_the_slot() -> None:
    r = rule("not_started", not_started_seconds=30)
    waiting = _run(RunStatus.QUEUED, started_at=None, finished_at=None, scheduled_for=T0)
    assert R.alerts_for_late(waiting, [r], T0 + timedelta(seconds=29)) == []
    assert _events(R.alerts_for_late(waiting, [r], T0 + timedelta(seconds=31))) == ["not_started"]
    manual = _run(RunStatus.QUEUED, started_at=None, finished_at=None, scheduled_for=None)
    assert R.alerts_for_late(manual, [r], T0 + timedelta(hours=1)) == []


def test_missed_slots() -> None:
    skipped = _run(RunStatus.SKIPPED, error="missed 3 slot(s) while no scheduler was running")
    got = R.alerts_for_missed(skipped, [rule("missed"), rule("failed")])
    assert _events(got) == ["missed"] and "missed 3" in got[0].summary


def test_dedup_keys_are_stable_per_fact_and_channel() -> None:
    a = R.alerts_for_ended(
        _run(F), [rule("failed")], previous=[], will_retry=False, had_retries=False
    )
    b = R.alerts_for_ended(
        _run(F), [rule("failed")], previous=[F], will_retry=False, had_retries=False
    )
    assert a[0].dedup_key == b[0].dedup_key == "default/ops/failed/r1"
    other = rule("failed").model_copy(update={"channel": "mail"})
    c = R.alerts_for_ended(_run(F), [other], previous=[], will_retry=False, had_retries=False)
    assert c[0].dedup_key != a[0].dedup_key


def test_mutes_and_the_realert_interval() -> None:
    window = MaintenanceWindow(start=T0, end=T0 + timedelta(hours=1), reason="db upgrade")
    assert "db upgrade" in (R.mute_reason(T0 + timedelta(minutes=5), [window], None) or "")
    assert R.mute_reason(T0 + timedelta(hours=1), [window], None) is None
    assert "snoozed" in (R.mute_reason(T0, [], T0 + timedelta(seconds=1)) or "")
    assert R.mute_reason(T0, [], T0) is None

    [alert] = R.alerts_for_ended(
        _run(F),
        [rule("failed", realert_seconds=600)],
        previous=[],
        will_retry=False,
        had_retries=False,
    )
    assert R.decide_status(alert, T0, muted="x", last_alert_at=None) == (DeliveryStatus.MUTED, "x")
    status, note = R.decide_status(alert, T0, muted=None, last_alert_at=T0 - timedelta(seconds=599))
    assert status is DeliveryStatus.SUPPRESSED and note
    assert R.decide_status(alert, T0, muted=None, last_alert_at=T0 - timedelta(seconds=600)) == (
        DeliveryStatus.PENDING,
        None,
    )


def test_rule_validation() -> None:
    with pytest.raises(ValidationError, match="longer_than_seconds or longer_than_median"):
        rule("running_too_long")
    with pytest.raises(ValidationError, match="shorter_than_seconds"):
        rule("too_fast")
    with pytest.raises(ValidationError):
        rule("test")  # not a rule event
    with pytest.raises(ValidationError):
        rule()
    with pytest.raises(ValidationError):
        NotifyRule.model_validate({"channel": "ops", "on": ["failed"], "oops": 1})
    assert rule("failed", "failed").on == ["failed"]


def test_signature_verifies_and_refuses_replay_and_tampering() -> None:
    body = b'{"event":"failed"}'
    signature = sign("s" * 20, 1_000_000, body)
    assert verify("s" * 20, "1000000", signature, body, now=1_000_100)
    assert not verify("s" * 20, "1000000", signature, body + b" ", now=1_000_100)
    assert not verify("t" * 20, "1000000", signature, body, now=1_000_100)
    assert not verify("s" * 20, "1000000", signature, body, now=1_000_000 + 301)  # replayed late
    assert not verify("s" * 20, "999999", signature, body, now=1_000_000)  # timestamp swapped


def test_retry_delays_grow_and_attempts_run_out() -> None:
    rng = random.Random(1)
    delays = [retry_delay(10, n, rng) for n in range(1, 6)]
    assert 8 <= delays[0] <= 12 and 128 <= delays[4] <= 192
    assert retry_delay(10, 40, rng) <= 3600 * 1.2
    failed = SendResult(False, code=503, error="HTTP 503")
    assert outcome(failed, 1, 3) == (DeliveryStatus.PENDING, True)
    assert outcome(failed, 3, 3) == (DeliveryStatus.FAILED, False)
    assert outcome(SendResult(False, code=404, permanent=True), 1, 3) == (
        DeliveryStatus.FAILED,
        False,
    )
    assert outcome(SendResult(True, code=200), 1, 3) == (DeliveryStatus.SENT, False)


def test_the_api_never_shows_a_channel_secret() -> None:
    slack = ChannelRecord(
        domain="d",
        name="s",
        type="slack",
        config={"url": "https://hooks.slack.com/services/T0/B0/SECRETPART"},
        created_at=T0,
        created_by="me",
    )
    shown = ChannelInfo.of(slack).model_dump_json()
    assert "SECRETPART" not in shown and "hooks.slack.com" in shown
    hook = ChannelRecord(
        domain="d",
        name="w",
        type="webhook",
        config={"url": "https://example.org/hook?token=abc123", "secret": "x" * 20},
        created_at=T0,
        created_by="me",
    )
    info = ChannelInfo.of(hook)
    assert "x" * 20 not in info.model_dump_json() and "abc123" not in info.model_dump_json()
    assert info.has_secret
    mail = ChannelRecord(
        domain="d",
        name="m",
        type="email",
        config={
            "host": "smtp.example.org",
            "port": 587,
            "username": "u",
            "password": "pw-123456",
            "sender": "a@example.org",
            "to": ["b@example.org"],
            "security": "starttls",
        },
        created_at=T0,
        created_by="me",
    )
    assert "pw-123456" not in ChannelInfo.of(mail).model_dump_json()


def test_slack_text_is_escaped() -> None:
    payload = {
        "event": "failed",
        "title": "nightly failed",
        "summary": "<!channel> see <http://evil|x>",
        "domain": "d",
        "run": {"id": "r1", "attempt": 1, "status": "failed", "error": "<@U1>"},
        "url": "http://127.0.0.1:8000/runs/r1",
    }
    body = str(slack_body(payload))
    assert "<!channel>" not in body and "<@U1>" not in body and "&lt;!channel&gt;" in body
    assert "<http://127.0.0.1:8000/runs/r1|Open in Hydra Jobs>" in body
