"""From facts to the outbox: evaluates the rules for ended runs, skipped slots, late and long
runs, and puts what they owe in the store's outbox (sent by `Deliverer` on the leader).

Called from where runs become final (`scheduler.services.retry_policy.after_terminal`, on every
replica), from the ticker (skipped slots) and from the leader's `Watcher`. Every alert's dedup key
comes from its fact alone, so these callers may overlap, and a fact seen twice is stored once
(N1). A failure here never fails the caller: the leader's sweep evaluates recent runs again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hydra_jobs.alerts import (
    MAX_AFTER_FAILURES,
    Delivery,
    DeliveryStatus,
    NotifyRule,
    NotifySettings,
)
from hydra_jobs.clock import Clock
from hydra_jobs.config import Settings
from hydra_jobs.errors import NotFound
from hydra_jobs.ids import new_id
from hydra_jobs.lifecycle import decide_retry
from hydra_jobs.models import Run
from hydra_jobs.notify import rules as R
from hydra_jobs.notify.message import run_payload
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter, Store

log = logging.getLogger(__name__)

SETTINGS_TTL_SECONDS = 5.0  # a domain's rules are read at most this often per replica
FAILING_EVENTS = tuple(R.FAILING)


def public_url(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port}"


def job_rules(run: Run) -> tuple[list[NotifyRule], bool]:
    """The rules in the run's job spec snapshot, and whether the domain's rules apply too."""
    raw = run.spec.get("notify") or []
    return [NotifyRule.model_validate(r) for r in raw], bool(run.spec.get("domain_notify", True))


class Emitter:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, wake: Callable[[], None]
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.wake = wake
        self._settings: dict[str, tuple[float, NotifySettings, datetime | None]] = {}
        self.recorded = 0  # deliveries put in the outbox by this replica

    async def domain_settings(self, domain: str) -> tuple[NotifySettings, datetime | None]:
        cached = self._settings.get(domain)
        mono = time.monotonic()
        if cached is not None and mono - cached[0] < SETTINGS_TTL_SECONDS:
            return cached[1], cached[2]
        found, updated = await self.store.get_notify_settings(domain)
        self._settings[domain] = (mono, found, updated)
        return found, updated

    def forget(self, domain: str) -> None:
        self._settings.pop(domain, None)

    async def rules_of(self, run: Run) -> list[NotifyRule]:
        own, inherit = job_rules(run)
        domain_rules = (await self.domain_settings(run.domain))[0].rules if inherit else []
        return R.rules_for(own, domain_rules, inherit=inherit)

    # facts -----------------------------------------------------------------------------------

    async def on_ended(self, runs: Sequence[Run]) -> None:
        for run in runs:
            if run.status not in R.OUTCOMES:
                continue
            try:
                rules = await self.rules_of(run)
                if not rules:
                    continue
                previous = await self.store.list_runs(
                    run.domain,
                    RunFilter(job_id=run.job_id, status=R.OUTCOMES),
                    limit=MAX_AFTER_FAILURES,
                    cursor=run.id,
                )
                spec = run.job_spec()
                retry = (
                    run.status in R.FAILING
                    and decide_retry(
                        spec.retries,
                        attempt=run.attempt,
                        status=run.status,
                        lost_count=run.lost_count,
                    ).retry
                )
                alerts = R.alerts_for_ended(
                    run,
                    rules,
                    previous=[p.status for p in previous.items],
                    will_retry=retry,
                    had_retries=spec.retries.max_attempts > 1,
                )
                await self.record(run, alerts)
            except Exception as exc:
                self._failed(run, exc)

    async def on_skipped(self, runs: Sequence[Run]) -> None:
        for run in runs:
            if run.status is not RunStatus.SKIPPED:
                continue
            try:
                rules = await self.rules_of(run)
                if rules:
                    await self.record(run, R.alerts_for_missed(run, rules))
            except Exception as exc:
                self._failed(run, exc)

    async def record(self, run: Run, alerts: Sequence[R.Alert]) -> list[Delivery]:
        """Put the alerts in the outbox: to send, or recorded as muted or suppressed."""
        if not alerts:
            return []
        now = self.clock.now()
        settings, _ = await self.domain_settings(run.domain)
        snoozes = {s.job_id: s.until for s in await self.store.list_snoozes(run.domain)}
        muted = R.mute_reason(now, settings.maintenance, snoozes.get(run.job_id))
        deliveries = []
        for alert in alerts:
            delivery = await self._delivery(run, alert, now, muted)
            deliveries.append(delivery)
        added = await self.store.add_deliveries(deliveries)
        if added:
            self.recorded += len(added)
            for d in added:
                log.info(
                    "notification %s for %s: %s",
                    d.event.value,
                    run.job_name,
                    d.status.value,
                    extra={
                        "action": "notify_recorded",
                        "run_id": run.id,
                        "job_id": run.job_id,
                        "channel": d.channel,
                        "event": d.event.value,
                    },
                )
            if any(d.status is DeliveryStatus.PENDING for d in added):
                self.wake()
        return added

    async def _delivery(
        self, run: Run, alert: R.Alert, now: datetime, muted: str | None
    ) -> Delivery:
        fields: dict[str, Any] = {}
        try:
            channel = await self.store.get_channel(run.domain, alert.rule.channel)
            channel_type = channel.type
            last = await self.store.last_alert_at(
                run.domain, alert.rule.channel, run.job_id, alert.event
            )
            status, note = R.decide_status(alert, now, muted=muted, last_alert_at=last)
        except NotFound:
            # Shown in the job's alert history, so a rule naming a deleted channel is noticed.
            channel_type, status, note = "unknown", DeliveryStatus.FAILED, None
            fields["error"] = f"no channel named '{alert.rule.channel}' in this domain"
        return Delivery(
            id=new_id(),
            domain=run.domain,
            channel=alert.rule.channel,
            channel_type=channel_type,
            event=alert.event,
            dedup_key=alert.dedup_key,
            job_id=run.job_id,
            job_name=run.job_name,
            run_id=run.id,
            status=status,
            next_attempt_at=now if status is DeliveryStatus.PENDING else None,
            created_at=now,
            note=note,
            payload=run_payload(
                alert.event, run, alert.summary, alert.dedup_key, public_url(self.settings), now
            ),
            **fields,
        )

    @staticmethod
    def _failed(run: Run, exc: Exception) -> None:
        log.warning(
            "could not evaluate the alert rules of run %s (the leader's sweep retries): %s: %s",
            run.id,
            type(exc).__name__,
            exc,
            extra={"action": "notify_eval_failed", "run_id": run.id},
        )
