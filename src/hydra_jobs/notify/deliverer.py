"""The delivery loop (leader only): takes due deliveries from the outbox and sends them.

Each attempt is claimed in the store first (its attempt count goes up, and it is not due again
for `CLAIM_SECONDS`), so a leader that dies mid-send leaves the delivery to the next leader, and
two leaders that briefly overlap never send one attempt twice. A failed attempt is retried with
capped exponential backoff; after `HYDRA_NOTIFY_MAX_ATTEMPTS`, or at once when the receiver
refuses it for good (a 4xx, a refused target), the delivery is `failed` (N1, N5).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from hydra_jobs.alerts import AttemptResult, Delivery, DeliveryStatus
from hydra_jobs.clock import Clock
from hydra_jobs.config import Settings
from hydra_jobs.errors import NotFound
from hydra_jobs.notify.senders import SEND_TIMEOUT_SECONDS, Senders, SendResult
from hydra_jobs.store.base import Store

log = logging.getLogger(__name__)

BATCH = 50
PARALLEL = 8  # attempts in flight at once
POLL_SECONDS = 2.0  # a delivery recorded on another replica waits at most this long
CLAIM_SECONDS = SEND_TIMEOUT_SECONDS * 2 + 5.0  # beyond any attempt's own time limit
MAX_RETRY_DELAY_SECONDS = 3600.0


def retry_delay(base: float, attempt: int, rng: random.Random) -> float:
    """Seconds before attempt `attempt + 1`: base·2^(attempt-1), capped at an hour, ±20 %."""
    delay = min(MAX_RETRY_DELAY_SECONDS, base * 2 ** min(attempt - 1, 30))
    return float(delay * rng.uniform(0.8, 1.2))


def outcome(result: SendResult, attempt: int, max_attempts: int) -> tuple[DeliveryStatus, bool]:
    """(status after this attempt, whether another one is scheduled)."""
    if result.ok:
        return DeliveryStatus.SENT, False
    if result.permanent or attempt >= max_attempts:
        return DeliveryStatus.FAILED, False
    return DeliveryStatus.PENDING, True


class Deliverer:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        wanted: asyncio.Event,
        leading: Callable[[], bool],
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.wanted = wanted
        self._leading = leading
        self.senders = Senders(allow_private_hosts=settings.notify_allow_private_hosts)
        self.sent: Counter[str] = Counter()  # by channel type
        self.failed: Counter[str] = Counter()  # given up, by channel type
        self.attempts_failed: Counter[str] = Counter()  # attempts that did not go through
        self._rng = random.Random()

    def leading(self) -> bool:
        return self._leading()

    async def run_forever(self) -> None:
        try:
            while True:
                done = await self.deliver_once()
                if done < BATCH:
                    self.wanted.clear()
                    try:
                        async with asyncio.timeout(POLL_SECONDS):
                            await self.wanted.wait()
                    except TimeoutError:
                        pass
        finally:
            await self.senders.close()

    async def deliver_once(self) -> int:
        if not self.leading():
            return 0
        now = self.clock.now()
        claimed = await self.store.claim_deliveries(
            now, now + timedelta(seconds=CLAIM_SECONDS), BATCH
        )
        gate = asyncio.Semaphore(PARALLEL)

        async def one(delivery: Delivery) -> None:
            async with gate:
                await self.attempt(delivery)

        await asyncio.gather(*(one(d) for d in claimed))
        return len(claimed)

    async def attempt(self, delivery: Delivery) -> DeliveryStatus:
        try:
            channel = await self.store.get_channel(delivery.domain, delivery.channel)
        except NotFound:
            result = SendResult(False, error="the channel was deleted", permanent=True)
        else:
            result = await self.senders.send(channel, delivery)
        status, again = outcome(result, delivery.attempts, self.settings.notify_max_attempts)
        now = self.clock.now()
        delay = retry_delay(self.settings.notify_retry_seconds, delivery.attempts, self._rng)
        await self.store.finish_attempt(
            AttemptResult(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                status=status,
                at=now,
                next_attempt_at=now + timedelta(seconds=delay) if again else None,
                response_code=result.code,
                error=result.error,
            )
        )
        kind = delivery.channel_type
        extra = {
            "action": "notify_attempt",
            "channel": delivery.channel,
            "event": delivery.event.value,
            "run_id": delivery.run_id,
            "attempt": delivery.attempts,
            "status": status.value,
        }
        if status is DeliveryStatus.SENT:
            self.sent[kind] += 1
            log.info("notification sent to %s", delivery.channel, extra=extra)
        else:
            self.attempts_failed[kind] += 1
            if status is DeliveryStatus.FAILED:
                self.failed[kind] += 1
            log.warning(
                "notification to %s: attempt %d failed (%s)%s",
                delivery.channel,
                delivery.attempts,
                result.error,
                "; given up" if status is DeliveryStatus.FAILED else f"; retry in {delay:.0f} s",
                extra=extra,
            )
        return status
