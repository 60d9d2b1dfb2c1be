"""`up`'s embedded mode: the app of `create_app` with one trusted worker running alongside it.

One process, one worker that serves every domain (`all_domains=True`; distributed mode gives each
domain its own workers, each holding only its domain's token). Each domain sees it with only its
own runs (`scheduler/services/shared_worker.py`). The worker starts once the engine runs and is
drained (grace for its jobs, then killed) before the engine stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from hydra_jobs.config import Settings
from hydra_jobs.scheduler.api.app import Alongside, create_app
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.worker.settings import WorkerConfig, worker_config
from hydra_jobs.worker.worker import Worker

log = logging.getLogger(__name__)


def create_embedded_app(
    settings: Settings, *, worker_settings: WorkerConfig | None = None, **app_options: Any
) -> FastAPI:
    """The app `up` serves. `worker_settings` is the worker's configuration when the caller built
    it already (`up` does, to refuse a bad setting before it serves); by default it comes from
    `settings`. `app_options` go to `create_app`."""
    config = worker_settings or worker_config(settings, all_domains=True)
    return create_app(settings, alongside=[embedded_worker(config)], **app_options)


def embedded_worker(config: WorkerConfig) -> Alongside:
    """The worker of `config`, run for as long as the app serves."""

    @asynccontextmanager
    async def running(app: FastAPI, rt: Runtime) -> AsyncIterator[None]:
        worker = Worker(rt.broker, config, rt.clock)
        app.state.worker = worker
        rt.shared_worker = (config.domain, worker.id)
        task = asyncio.create_task(worker.run(), name="embedded-worker")
        task.add_done_callback(_embedded_worker_ended)
        try:
            yield
        finally:
            worker.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    task, rt.settings.drain_grace_seconds + rt.settings.kill_grace_seconds + 5.0
                )

    return running


def _embedded_worker_ended(task: asyncio.Task[None]) -> None:
    """An embedded worker that stops by itself runs no more jobs: never quietly."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.critical(
            "the embedded worker stopped: %s: %s; no run starts until Hydra Jobs is restarted",
            type(exc).__name__,
            exc,
            exc_info=exc,
            extra={"action": "embedded_worker_failed"},
        )
