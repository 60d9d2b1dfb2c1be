"""Which alerts a fact owes, by the rules (pure: no store, no clock, no network).

A *fact* is a run that ended, a slot that got no run, a run not started in time or running too
long. `alerts_for_*` turn a fact and the rules that apply to its job into `Alert`s; whether an
alert is then sent, muted or suppressed is `decide_status`. Every alert carries a dedup key built
only from the fact (domain, channel, event, run or slot), so evaluating the same fact twice (the
ingest hook and the leader's sweep, or two replicas) gives the same key and one outbox row (N1).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hydra_jobs.alerts import (
    FAILURE_EVENTS,
    DeliveryStatus,
    MaintenanceWindow,
    NotifyEvent,
    NotifyRule,
)
from hydra_jobs.models import Run
from hydra_jobs.status import FAILURE, RunStatus

FAILING: frozenset[RunStatus] = FAILURE
OUTCOMES: frozenset[RunStatus] = FAILING | {RunStatus.SUCCEEDED}
EVENT_OF_STATUS = {
    RunStatus.FAILED: NotifyEvent.FAILED,
    RunStatus.TIMED_OUT: NotifyEvent.TIMED_OUT,
    RunStatus.LOST: NotifyEvent.LOST,
}
MIN_MEDIAN_SAMPLES = 3  # successful runs needed before `longer_than_median` applies


@dataclass(frozen=True, slots=True)
class Alert:
    rule: NotifyRule
    event: NotifyEvent
    dedup_key: str
    summary: str


def rules_for(
    job_rules: Sequence[NotifyRule], domain_rules: Sequence[NotifyRule], *, inherit: bool
) -> list[NotifyRule]:
    """The job's own rules, then the domain's unless the job opted out."""
    return [*job_rules, *(domain_rules if inherit else ())]


def dedup_key(domain: str, channel: str, event: NotifyEvent, subject: str) -> str:
    return f"{domain}/{channel}/{event.value}/{subject}"


def streak(previous: Iterable[RunStatus]) -> int:
    """Failures in a row at the start of `previous` (newest first)."""
    count = 0
    for status in previous:
        if status not in FAILING:
            break
        count += 1
    return count


def duration_seconds(run: Run) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return (run.finished_at - run.started_at).total_seconds()


def alerts_for_ended(
    run: Run,
    rules: Sequence[NotifyRule],
    *,
    previous: Sequence[RunStatus],
    will_retry: bool,
    had_retries: bool,
) -> list[Alert]:
    """Alerts owed for `run`, which just ended. `previous`: the job's earlier outcomes (succeeded,
    failed, timed out, lost), newest first; `will_retry`: the retry policy gives it another
    attempt; `had_retries`: the job allows more than one attempt (so `retries_exhausted` means
    something)."""
    before = streak(previous)
    failing = run.status in FAILING
    in_a_row = before + 1 if failing else 0
    events: list[tuple[NotifyEvent, str]] = []
    if failing:
        text = f"{run.status.value.replace('_', ' ')} ({in_a_row} in a row)"
        events.append((EVENT_OF_STATUS[run.status], text))
        if not will_retry and had_retries:
            events.append(
                (NotifyEvent.RETRIES_EXHAUSTED, f"no retry left after attempt {run.attempt}")
            )
    elif run.status is RunStatus.SUCCEEDED:
        events.append((NotifyEvent.SUCCEEDED, "succeeded"))
        if before:
            events.append((NotifyEvent.RECOVERED, f"succeeded after {before} failure(s)"))
    took = duration_seconds(run)
    alerts: list[Alert] = []
    for rule in rules:
        wanted = rule.events()
        for event, text in events:
            if event not in wanted:
                continue
            if event in FAILURE_EVENTS and in_a_row < rule.after_failures:
                continue
            if event is NotifyEvent.RECOVERED and before < rule.after_failures:
                continue  # the failures were never alerted: their end is no news either
            alerts.append(_alert(run, rule, event, run.id, text))
        if (
            NotifyEvent.TOO_FAST in wanted
            and run.status is RunStatus.SUCCEEDED
            and rule.shorter_than_seconds is not None
            and took is not None
            and took < rule.shorter_than_seconds
        ):
            text = f"succeeded in {took:.1f} s, under {rule.shorter_than_seconds:g} s"
            alerts.append(_alert(run, rule, NotifyEvent.TOO_FAST, run.id, text))
    return alerts


def alerts_for_missed(run: Run, rules: Sequence[NotifyRule]) -> list[Alert]:
    """A `skipped` slot record: a slot that got no run (downtime, overlap, the domain's cap)."""
    text = run.error or "a scheduled slot did not run"
    return [
        _alert(run, rule, NotifyEvent.MISSED, run.id, text)
        for rule in rules
        if NotifyEvent.MISSED in rule.events()
    ]


def alerts_for_late(run: Run, rules: Sequence[NotifyRule], now: datetime) -> list[Alert]:
    """A scheduled run that has not started `not_started_seconds` after its slot."""
    if run.scheduled_for is None:
        return []
    start = run.started_at or now
    late = (start - run.scheduled_for).total_seconds()
    alerts = []
    for rule in rules:
        if NotifyEvent.NOT_STARTED in rule.events() and late > rule.not_started_seconds:
            what = "started" if run.started_at else "not started"
            text = f"{what} {late:.0f} s after its slot (limit {rule.not_started_seconds:g} s)"
            alerts.append(_alert(run, rule, NotifyEvent.NOT_STARTED, run.id, text))
    return alerts


def median_duration(durations: Sequence[float]) -> float | None:
    if len(durations) < MIN_MEDIAN_SAMPLES:
        return None
    return statistics.median(durations)


def alerts_for_running(
    run: Run, rules: Sequence[NotifyRule], now: datetime, median: float | None
) -> list[Alert]:
    """A running run past a rule's absolute limit or its multiple of the job's median."""
    if run.started_at is None:
        return []
    elapsed = (now - run.started_at).total_seconds()
    alerts = []
    for rule in rules:
        if NotifyEvent.RUNNING_TOO_LONG not in rule.events():
            continue
        limits = []
        if rule.longer_than_seconds is not None:
            limits.append((rule.longer_than_seconds, f"{rule.longer_than_seconds:g} s"))
        if rule.longer_than_median is not None and median is not None:
            limit = median * rule.longer_than_median
            text = f"{rule.longer_than_median:g} times the median of {median:.1f} s"
            limits.append((limit, text))
        passed = [text for limit, text in limits if elapsed > limit]
        if passed:
            text = f"running for {elapsed:.0f} s, over {passed[0]}"
            alerts.append(_alert(run, rule, NotifyEvent.RUNNING_TOO_LONG, run.id, text))
    return alerts


def mute_reason(
    now: datetime, windows: Sequence[MaintenanceWindow], snoozed_until: datetime | None
) -> str | None:
    """Why alerts are muted at `now` (a maintenance window, the job's snooze), or None."""
    if snoozed_until is not None and now < snoozed_until:
        return f"job snoozed until {snoozed_until.isoformat()}"
    for window in windows:
        if window.covers(now):
            why = f": {window.reason}" if window.reason else ""
            return f"maintenance window until {window.end.isoformat()}{why}"
    return None


def decide_status(
    alert: Alert, now: datetime, *, muted: str | None, last_alert_at: datetime | None
) -> tuple[DeliveryStatus, str | None]:
    """Send it (`pending`), or record why not: a mute, or the rule's re-alert interval."""
    if muted is not None:
        return DeliveryStatus.MUTED, muted
    interval = alert.rule.realert_seconds
    if interval is not None and last_alert_at is not None:
        quiet_until = last_alert_at + timedelta(seconds=interval)
        if now < quiet_until:
            return (
                DeliveryStatus.SUPPRESSED,
                f"alerted at {last_alert_at.isoformat()}; quiet until {quiet_until.isoformat()}",
            )
    return DeliveryStatus.PENDING, None


def _alert(run: Run, rule: NotifyRule, event: NotifyEvent, subject: str, text: str) -> Alert:
    return Alert(rule, event, dedup_key(run.domain, rule.channel, event, subject), text)
