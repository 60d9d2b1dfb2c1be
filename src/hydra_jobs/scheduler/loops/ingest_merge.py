"""Ingest's shortcut for runs that end quickly: their start and their end written as one change.

Under load most short runs start and finish within one ingest batch, and each half would cost a
compare-and-set UPDATE (with RETURNING) in the same transaction. When a batch holds a run's
`started` and, after it, its `finished` from the same worker and nothing else of that run (no
output between), the two become one compare-and-set: queued -> final status, with the fields of
both. Live clients still see the run go through `running`: ingest publishes the run as it stood
between the two halves (`running_view`).

If the merged write is refused (the run is no longer queued: cancelled, reaped, or this is a
duplicate start), ingest applies the two events one by one, exactly as without the shortcut.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hydra_jobs.broker.base import Received
from hydra_jobs.events import Finished, Started
from hydra_jobs.models import Run
from hydra_jobs.status import START_AND_FINISH, RunStatus, SetStatus, transition
from hydra_jobs.store.base import AppendLog, Op

Pair = tuple[Received, Op]


@dataclass(frozen=True, slots=True)
class Merged:
    """The two pairs a merged op replaced: applied one by one if the merged op is refused."""

    started: Pair
    finished: Pair


def merge_quick_runs(pairs: list[Pair]) -> tuple[list[Pair], dict[int, Merged]]:
    """Pairs with each mergeable start/end replaced by one op at the start's place.

    Also returns, by `id()` of each merged op, what it replaced.
    """
    positions: dict[str, list[int]] = defaultdict(list)
    for index, (_, op) in enumerate(pairs):
        if isinstance(op, SetStatus | AppendLog):
            positions[op.run_id].append(index)
    out: list[Pair | None] = list(pairs)
    merged: dict[int, Merged] = {}
    for first, *rest in positions.values():
        if len(rest) != 1 or not _mergeable(pairs[first], pairs[rest[0]]):
            continue
        started, finished = pairs[first], pairs[rest[0]]
        op = _merged_op(started[1], finished[1])
        out[first] = (started[0], op)
        out[rest[0]] = None
        merged[id(op)] = Merged(started, finished)
    return [pair for pair in out if pair is not None], merged


def _mergeable(started: Pair, finished: Pair) -> bool:
    (start, start_op), (end, end_op) = started, finished
    return (
        isinstance(start.event, Started)
        and isinstance(end.event, Finished)
        and start.event.worker_id == end.event.worker_id
        and isinstance(start_op, SetStatus)
        and isinstance(end_op, SetStatus)
    )


def _merged_op(start: Op, end: Op) -> SetStatus:
    assert isinstance(start, SetStatus) and isinstance(end, SetStatus)
    # From queued, like the start; no worker fence needed: the start sets the worker.
    return transition(START_AND_FINISH, start.run_id, end.status, {**start.fields, **end.fields})


def running_view(final: Run, merged: Merged) -> Run:
    """`final` as it stood between the two halves: running, none of the end's fields set."""
    start, end = merged.started[1], merged.finished[1]
    assert isinstance(start, SetStatus) and isinstance(end, SetStatus)
    fields = Run.model_fields
    undo = {
        k: fields[k].get_default(call_default_factory=True)
        for k in end.fields
        if k not in start.fields
    }
    return final.model_copy(update={"status": RunStatus.RUNNING, **undo})
