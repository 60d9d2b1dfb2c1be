"""Publishing worker credentials to the broker (see `broker/signing.py`).

Every replica publishes the whole set when it starts; the leader again as soon as the set is gone
from Redis, and every `RESYNC_SECONDS`; token changes publish (or drop) one at once.
Without signing keys (the in-process broker) there is nothing to publish.
"""

from __future__ import annotations

import asyncio
import logging

from hydra_jobs.broker.signing import SchedulerKeys
from hydra_jobs.events import Revoked, SchedulerNotice
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.runs import tell_broker
from hydra_jobs.tokens import TokenRecord

log = logging.getLogger(__name__)

RESYNC_SECONDS = 30.0
CHECK_SECONDS = 1.0  # how soon a lost credential set is noticed


class CredentialPublisher:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def keys(self) -> SchedulerKeys | None:
        return self.rt.keys

    async def sync(self) -> None:
        if self.keys is None:
            return
        active = await self.workers_tokens()
        blobs = {t.id: self.keys.credential(t) for t in active}
        await self.rt.broker.put_credentials(blobs, complete=True)
        # A token created or revoked while the set was read and written did its own put or
        # drop before our write, which may have undone it: read again and repair the difference.
        now = {t.id: t for t in await self.workers_tokens()}
        gone = [token_id for token_id in blobs if token_id not in now]
        new = {t.id: self.keys.credential(t) for t in now.values() if t.id not in blobs}
        if gone:
            await self.rt.broker.drop_credentials(gone)
        if new:
            await self.rt.broker.put_credentials(new, complete=False)
        log.debug("published %d worker credential(s)", len(now))

    async def workers_tokens(self) -> list[TokenRecord]:
        """The tokens a worker may use: not revoked, and not a viewer's (WORKER_ROLE)."""
        return [t for t in await self.rt.store.active_tokens() if t.can_work]

    async def put(self, token: TokenRecord) -> None:
        """Publish one (after the store has it); a broker failure is left to the resync."""
        if self.keys is not None and token.can_work:
            blob = {token.id: self.keys.credential(token)}
            publish = self.rt.broker.put_credentials(blob, complete=False)
            await tell_broker("put_credentials", publish)

    async def revoke(self, tokens: list[TokenRecord]) -> None:
        """Take the tokens' credentials down and tell their workers and every replica.

        The store already refuses the tokens; a broker failure here is logged, and the leader's
        resync removes the credentials once the broker is back.
        """
        if not tokens:
            return
        ids = [t.id for t in tokens]
        if self.keys is not None:
            for token_id in ids:
                self.keys.forget_token(token_id)
        await tell_broker("drop_credentials", self.rt.broker.drop_credentials(ids))
        for token in tokens:
            message = Revoked(token_id=token.id)
            await tell_broker("send_control", self.rt.broker.send_control(token.domain, message))
        notice = SchedulerNotice(origin="", revoked=ids)
        await tell_broker("notify_schedulers", self.rt.broker.notify_schedulers(notice))

    async def run_forever(self) -> None:
        """The leader's watch: republish at once when the set is gone (Redis flushed or
        restarted), and every `RESYNC_SECONDS` anyway (a set edited by a racing replica)."""
        if self.keys is None:
            return
        since_sync = 0.0
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            since_sync += CHECK_SECONDS
            _, complete = await self.rt.broker.read_credential("-")
            if not complete or since_sync >= RESYNC_SECONDS:
                await self.sync()
                since_sync = 0.0
