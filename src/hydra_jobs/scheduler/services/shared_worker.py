"""`up`'s embedded worker serves every domain, so no domain owns it (issue 13 §3).

Every domain sees it, each with only its own runs in `running`: in `GET /workers` and in the
live `worker` events. Other workers belong to their domain and are shown as they are.
"""

from __future__ import annotations

from hydra_jobs.models import Worker
from hydra_jobs.scheduler.context import Runtime


def is_shared(rt: Runtime, worker_id: str) -> bool:
    return rt.shared_worker is not None and rt.shared_worker[1] == worker_id


async def run_domains(rt: Runtime, worker: Worker) -> dict[str, str]:
    """The domain of each run in progress on `worker` (a run no longer stored is left out)."""
    found = {}
    for run_id in worker.running:
        run = await rt.store.find_run(run_id)
        if run is not None:
            found[run_id] = run.domain
    return found


def view(worker: Worker, domains: dict[str, str], domain: str) -> Worker:
    """What `domain` may see of the shared worker: its own runs only."""
    mine = [r for r in worker.running if domains.get(r) == domain]
    return worker.model_copy(update={"running": mine})
