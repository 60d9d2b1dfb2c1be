"""The hub's guard against out-of-order run events from several replicas (pure)."""

from __future__ import annotations

from hydra_jobs.models import RunStatus, RunSummary
from hydra_jobs.scheduler.hub import RunOrder
from tests.contract.factories import make_job, make_run

JOB = make_job()


def run(status: str, run_id: str = "r1") -> RunSummary:
    return make_run(JOB, RunStatus(status), id=run_id).summary()


def test_runs_only_move_forward() -> None:
    order = RunOrder()
    assert not order.stale(run("queued"))
    assert not order.stale(run("succeeded"))  # `running` was published by a slower replica
    assert order.stale(run("running"))
    assert order.stale(run("queued"))
    assert order.stale(run("failed"))  # terminal is final
    assert not order.stale(run("succeeded"))  # the same state again is harmless


def test_updates_in_place_pass_and_no_terminal_state_follows_another() -> None:
    """A poison run is `failed` in one step (lifecycle.worker_died): `lost` then `failed` is
    no longer a special case, and a terminal state is final for live clients too."""
    order = RunOrder()
    assert not order.stale(run("running"))
    assert not order.stale(run("running"))  # e.g. cancel_requested set on a running run
    assert not order.stale(run("lost"))
    assert order.stale(run("failed"))
    assert not order.stale(run("lost"))  # the same state again is harmless


def test_memory_is_bounded() -> None:
    order = RunOrder(memory=2)
    for i in range(3):
        order.stale(run("succeeded", f"r{i}"))
    assert not order.stale(run("running", "r0"))  # forgotten: passes
    assert order.stale(run("running", "r2"))
