"""The run lifecycle's one owner: run statuses, their named sets, their order, and every transition.

A run is born `pending`, `queued` (nothing to wait for) or `skipped` (a schedule slot that did not
run), and changes status only through the moves below, each the compare-and-set of one production
path. `ALLOWED` is their union, so it states what production does, not what it might.

    pending          --dispatch-->            queued
    queued           --start-->               running
    running          --finish-->              succeeded | failed | timed_out | cancelled | lost
    queued           --start_and_finish-->    succeeded | failed | timed_out | cancelled | lost
    pending, queued  --cancel_waiting-->      cancelled
    running          --request_cancel-->      running (marked; its worker ends it `cancelled`)
    running          --worker_lost-->         lost | failed (poison)
    queued           --lost_while_starting--> lost | failed (poison)

How this is enforced. A store changes a stored run's status only by applying a `SetStatus`
(`Store.apply`, `Store.set_status`), and a `SetStatus` can only be made by `transition()`: its
constructor refuses to run without this module's private token, and refuses a status change that
`ALLOWED` does not list (so a `dataclasses.replace` of one cannot smuggle in another).
`tests/unit/test_status_writes.py` scans `src/` so that no other code writes a run status by another
route: no `SetStatus(...)` outside this module, and in the stores no status written outside the
compare-and-set that applies a `SetStatus` and the insert of a new run.

Pure: no I/O, no clock, no imports from the rest of the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    LOST = "lost"
    SKIPPED = "skipped"


S = RunStatus

TERMINAL: frozenset[RunStatus] = frozenset(
    {S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.LOST, S.SKIPPED}
)
NOT_ENDED: frozenset[RunStatus] = frozenset(s for s in RunStatus if s not in TERMINAL)
WAITING: frozenset[RunStatus] = frozenset({S.PENDING, S.QUEUED})  # not on a worker yet
ACTIVE: frozenset[RunStatus] = frozenset({S.QUEUED, S.RUNNING})  # counted against max_running
FAILURE: frozenset[RunStatus] = frozenset({S.FAILED, S.TIMED_OUT, S.LOST})
RETRYABLE: frozenset[RunStatus] = FAILURE  # a failure is what a retry policy retries
# The ends a worker may report for a run it ran (`skipped` is the ticker's alone). `lost` from a
# worker: it had to stop a run it was not asked to stop (it could not renew its lease, or its
# drain grace ran out); the run is retried like one the reaper declared lost.
FINISHED: frozenset[RunStatus] = TERMINAL - {S.SKIPPED}
# What a new run may be stored as.
BORN: frozenset[RunStatus] = frozenset({S.PENDING, S.QUEUED, S.SKIPPED})

# The order of statuses in a run's life: live events that would move a run back are dropped.
ENDED_RANK = 3
RANK: Mapping[str, int] = {
    S.PENDING: 0,
    S.QUEUED: 1,
    S.RUNNING: 2,
    **{s: ENDED_RANK for s in TERMINAL},
}


def rank(status: str) -> int:
    """A status's place in a run's life; an unknown status (from a newer version) counts as
    ended."""
    return RANK.get(status, ENDED_RANK)


def values(statuses: Iterable[RunStatus]) -> list[str]:
    """The statuses as stored (sorted strings), for store queries."""
    return sorted(s.value for s in statuses)


@dataclass(frozen=True, slots=True)
class Move:
    """One production path that changes a stored run's status: from `sources` (the
    compare-and-set's expected statuses) to one of `targets`."""

    name: str
    sources: frozenset[RunStatus]
    targets: frozenset[RunStatus]
    by: str  # who makes it


DISPATCH = Move("dispatch", frozenset({S.PENDING}), frozenset({S.QUEUED}), "dispatcher")
START = Move("start", frozenset({S.QUEUED}), frozenset({S.RUNNING}), "ingest: `started`")
FINISH = Move("finish", frozenset({S.RUNNING}), FINISHED, "ingest: `finished`")
START_AND_FINISH = Move(
    "start_and_finish",
    frozenset({S.QUEUED}),
    FINISHED,
    "ingest: `started` and `finished` in one batch (ingest_merge)",
)
CANCEL_WAITING = Move(
    "cancel_waiting", WAITING, frozenset({S.CANCELLED}), "cancel by request or overlap"
)
REQUEST_CANCEL = Move(
    "request_cancel",
    frozenset({S.RUNNING}),
    frozenset({S.RUNNING}),
    "cancel by request or overlap: marks it; its worker stops it and reports `cancelled`",
)
WORKER_LOST = Move(
    "worker_lost",
    frozenset({S.RUNNING}),
    frozenset({S.LOST, S.FAILED}),
    "reaper: its worker's lease expired (`failed` once the chain is poison)",
)
LOST_WHILE_STARTING = Move(
    "lost_while_starting",
    frozenset({S.QUEUED}),
    frozenset({S.LOST, S.FAILED}),
    "reaper: its worker died while starting it (`failed` once the chain is poison)",
)
MOVES: tuple[Move, ...] = (
    DISPATCH,
    START,
    FINISH,
    START_AND_FINISH,
    CANCEL_WAITING,
    REQUEST_CANCEL,
    WORKER_LOST,
    LOST_WHILE_STARTING,
)


def _allowed() -> dict[RunStatus, frozenset[RunStatus]]:
    table: dict[RunStatus, set[RunStatus]] = {}
    for move in MOVES:
        for source in move.sources:
            table.setdefault(source, set()).update(move.targets)
    return {source: frozenset(targets) for source, targets in table.items()}


ALLOWED: Mapping[RunStatus, frozenset[RunStatus]] = _allowed()
# Its inverse: the statuses each status may be reached from (checked for every status change).
_SOURCES: Mapping[RunStatus, frozenset[RunStatus]] = {
    new: frozenset(s for s, targets in ALLOWED.items() if new in targets) for new in RunStatus
}


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    """Whether some production path moves a run from `current` to `new` (never out of a
    terminal status)."""
    return new in ALLOWED.get(current, frozenset())


class IllegalTransition(ValueError):
    """A status change that no production path makes."""


_TOKEN = object()  # only `transition` holds it: see the module docstring


@dataclass(frozen=True, slots=True)
class SetStatus:
    """A compare-and-set of a run's status as the store applies it: from any of `expected` to
    `status`, with `fields`; `worker_id` fences the write to the run's current worker.

    Made by `transition()` only."""

    run_id: str
    expected: frozenset[RunStatus]
    status: RunStatus
    fields: dict[str, Any] = field(default_factory=dict)
    worker_id: str | None = None
    move: str = field(default="", kw_only=True)  # the `Move` it makes, by name
    token: object = field(default=None, repr=False, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        if self.token is not _TOKEN:
            raise TypeError("a SetStatus is made by hydra_jobs.status.transition(), nowhere else")
        if not self.expected or not self.expected <= _SOURCES[self.status]:
            illegal = values(s for s in self.expected if not can_transition(s, self.status))
            raise IllegalTransition(
                f"no production path moves a run from {illegal or 'nothing'} to {self.status.value}"
            )


def transition(
    move: Move,
    run_id: str,
    to: RunStatus | None = None,
    fields: Mapping[str, Any] | None = None,
    *,
    worker_id: str | None = None,
) -> SetStatus:
    """The one way to change a stored run's status: the compare-and-set of `move` to `to`
    (which may be left out when the move has one target). Raises `IllegalTransition` when the
    move does not lead to `to`."""
    if to is None:
        if len(move.targets) != 1:
            raise IllegalTransition(
                f"{move.name} leads to one of {values(move.targets)}: say which"
            )
        (to,) = move.targets
    if to not in move.targets:
        raise IllegalTransition(f"{move.name} does not lead to {to.value}")
    given = fields if isinstance(fields, dict) else dict(fields or {})
    return SetStatus(run_id, move.sources, to, given, worker_id, move=move.name, token=_TOKEN)
