"""The broker interface: the data plane between schedulers and workers.

Five channels, each with a durable and a fast path where it matters:
- queues: deliveries of runs to workers, per (domain, queue); claimed atomically, acked when done;
  deliveries held by a worker whose lease is gone are found by the leader and redelivered;
- events: worker -> scheduler reports (started, output, finished, heartbeat), consumed by ingest,
  which acks them once they are written to the store;
- live: fan-out of persisted changes to every scheduler replica's SSE clients (a hint only);
- control: cancel requests, worker aborts and drains (a durable marker plus a nudge; workers also
  poll the markers, so a lost nudge only delays them);
- scheduler nudges: job changes and dispatch wake-ups between replicas (hints; the leader also
  resyncs periodically);
plus worker leases, the leader lease, and the boot id that tells the leader the broker lost its
data (then it rebuilds the queues from the store).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hydra_jobs.events import ControlMessage, LiveEvent, SchedulerNotice, WorkerEvent

ANY_DOMAIN = "*"  # what a worker trusted with every domain claims from


@dataclass(frozen=True, slots=True)
class Delivery:
    """A run handed to a worker. `receipt` is what the broker needs to ack it.

    `started` is set on orphaned deliveries whose worker had begun starting the run before it
    died: such a run may have run (in part), so it is declared lost rather than redelivered.
    """

    domain: str
    queue: str
    run: dict[str, Any]
    receipt: str
    started: bool = False

    @property
    def run_id(self) -> str:
        return str(self.run["id"])


@dataclass(slots=True)
class Received:
    """A worker event as ingest reads it: checked (`events.py`), with what acks it (`receipt`)."""

    event: WorkerEvent
    receipt: str = ""


T_co = TypeVar("T_co", covariant=True)


class Subscription(Protocol[T_co]):
    def __aiter__(self) -> AsyncIterator[T_co]: ...
    async def close(self) -> None: ...


class Broker(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    # queues
    async def enqueue(self, domain: str, queue: str, runs: list[dict[str, Any]]) -> None: ...
    # `claim`'s domain may be ANY_DOMAIN: the embedded worker of `hydra-jobs up` serves them all.
    async def claim(
        self, domain: str, queues: list[str], consumer: str, count: int, timeout: float
    ) -> list[Delivery]: ...
    async def ack(self, delivery: Delivery) -> None: ...
    async def purge_run(self, domain: str, queue: str, run_id: str) -> None:
        """The run will never run (cancelled while queued): off its queue, and out of the
        consumer's hold if it was claimed (its ack is then a no-op)."""
        ...

    async def forget_runs(self, run_ids: list[str]) -> None:
        """The runs ended: `enqueue` may take the same ids again (it skips runs still queued)."""
        ...

    async def redeliver(self, delivery: Delivery) -> None:
        """Put a claimed, unstarted delivery back on its queue, behind the runs queued meanwhile
        (a Redis stream can only append; the in-process broker does the same); a no-op if it
        was acked or purged."""
        ...

    async def absent_runs(self, run_ids: list[str]) -> set[str]:
        """Which of these runs the broker holds neither on a queue nor claimed."""
        ...

    async def orphaned_deliveries(self, live: set[str]) -> list[Delivery]:
        """Deliveries claimed by consumers not in `live`: the caller redelivers or acks each."""
        ...

    # worker -> scheduler events
    async def emit(self, events: Sequence[WorkerEvent]) -> None: ...
    async def read_events(self, count: int, timeout: float) -> list[Received]:
        """Events in the order each worker emitted them; one that is forged or malformed is
        dropped and logged here, never returned."""
        ...

    async def ack_events(self, events: Sequence[Received]) -> None:
        """`events` (from `read_events`) are stored: they are not delivered again."""
        ...

    # live fan-out
    async def publish(self, domain: str, events: Sequence[LiveEvent]) -> None:
        """To every subscriber of `domain` (or of all), each event with `domain` set."""
        ...

    def subscribe(self, domain: str | None) -> Subscription[LiveEvent]: ...

    # control
    async def request_cancel(self, domain: str, run_id: str) -> None: ...
    async def is_cancel_requested(self, run_id: str) -> bool: ...
    async def begin(self, delivery: Delivery, worker_id: str) -> bool:
        """The worker is about to start the run: record that (see `Delivery.started`) and
        return False instead if the run's cancel was requested (then it must not start)."""
        ...

    def watch_control(self, domain: str, worker_id: str) -> Subscription[ControlMessage]: ...
    async def send_control(self, domain: str, message: ControlMessage) -> None: ...
    async def poll_control(
        self, domain: str, worker_id: str, run_ids: list[str]
    ) -> list[ControlMessage]:
        """The durable path of control: cancel/abort/drain messages still standing for them."""
        ...

    # scheduler replicas
    async def notify_schedulers(self, message: SchedulerNotice) -> None: ...
    def watch_schedulers(self) -> Subscription[SchedulerNotice]: ...

    # leases
    async def renew_worker_lease(self, worker_id: str, ttl: float) -> None: ...
    async def drop_worker_lease(self, worker_id: str) -> None: ...
    async def live_workers(self) -> set[str]: ...
    async def try_lead(self, holder: str, ttl: float) -> bool: ...
    async def resign(self, holder: str) -> None: ...
    async def check_boot(self) -> bool:
        """True once after the broker started empty (first start, or its data was lost)."""
        ...

    # worker credentials (see broker/signing.py; the in-process broker needs none)
    async def put_credentials(self, blobs: dict[str, bytes], *, complete: bool) -> None:
        """Publish credentials by token id; `complete` replaces the whole set with `blobs`."""
        ...

    async def drop_credentials(self, token_ids: list[str]) -> None: ...
    async def read_credential(self, token_id: str) -> tuple[bytes | None, bool]:
        """(the token's credential or None, whether the published set is complete)."""
        ...
