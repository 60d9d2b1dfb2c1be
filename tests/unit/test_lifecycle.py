"""Pure lifecycle rules: transitions, retry decisions, backoff, concurrency caps."""

from __future__ import annotations

import random

import pytest

from hydra_jobs.lifecycle import (
    backoff_delay,
    can_transition,
    concurrency_cap,
    decide_retry,
    sources_for,
    worker_died,
)
from hydra_jobs.models import TERMINAL, Retries, RunStatus

S = RunStatus


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
@pytest.mark.parametrize("target", list(RunStatus))
def test_terminal_states_are_final(terminal: RunStatus, target: RunStatus) -> None:
    assert not can_transition(terminal, target)


@pytest.mark.parametrize(
    ("current", "new", "ok"),
    [
        (S.PENDING, S.QUEUED, True),
        (S.PENDING, S.CANCELLED, True),
        (S.PENDING, S.RUNNING, False),
        (S.QUEUED, S.RUNNING, True),
        (S.QUEUED, S.SUCCEEDED, False),
        (S.RUNNING, S.SUCCEEDED, True),
        (S.RUNNING, S.LOST, True),
        (S.RUNNING, S.QUEUED, False),
        (S.RUNNING, S.PENDING, False),
    ],
)
def test_transitions(current: RunStatus, new: RunStatus, ok: bool) -> None:
    assert can_transition(current, new) is ok


def test_sources_for_is_the_inverse_of_allowed() -> None:
    assert sources_for(S.RUNNING) == {S.QUEUED}
    assert sources_for(S.CANCELLED) == {S.PENDING, S.QUEUED, S.RUNNING}
    for new in RunStatus:
        for current in sources_for(new):
            assert can_transition(current, new)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = Retries(
        max_attempts=10, backoff_seconds=2, backoff_factor=3, max_backoff_seconds=50, jitter=0
    )
    assert [backoff_delay(policy, a) for a in range(1, 6)] == [2, 6, 18, 50, 50]


def test_jitter_stays_in_its_band_and_keeps_delays_growing() -> None:
    policy = Retries(
        max_attempts=10,
        backoff_seconds=10,
        backoff_factor=2,
        jitter=0.2,
        max_backoff_seconds=10_000,
    )
    rng = random.Random(7)
    for attempt in range(1, 8):
        base = 10 * 2 ** (attempt - 1)
        for _ in range(50):
            assert 0.8 * base <= backoff_delay(policy, attempt, rng) <= 1.2 * base
    worst_next = 0.8 * 20  # attempt 2 low end
    best_prev = 1.2 * 10  # attempt 1 high end
    assert worst_next > best_prev


@pytest.mark.parametrize("status", [S.FAILED, S.TIMED_OUT, S.LOST])
def test_retryable_statuses_retry_while_attempts_remain(status: RunStatus) -> None:
    policy = Retries(max_attempts=3, backoff_seconds=1, jitter=0)
    first = decide_retry(policy, attempt=1, status=status, lost_count=1)
    assert first.retry and first.delay_seconds == 1
    last = decide_retry(policy, attempt=3, status=status, lost_count=1)
    assert not last.retry and "no attempts left" in last.reason


@pytest.mark.parametrize("status", [S.SUCCEEDED, S.CANCELLED, S.SKIPPED])
def test_other_outcomes_never_retry(status: RunStatus) -> None:
    assert not decide_retry(Retries(max_attempts=5), attempt=1, status=status).retry


def test_a_run_that_keeps_killing_workers_is_poison() -> None:
    decision = decide_retry(Retries(max_attempts=10), attempt=3, status=S.LOST, lost_count=3)
    assert not decision.retry and decision.final_status is S.FAILED
    assert "poison" in decision.reason
    # The reaper ends it `failed` at once; the policy then retries it no more.
    failed = decide_retry(Retries(max_attempts=10), attempt=3, status=S.FAILED, lost_count=3)
    assert not failed.retry and "poison" in failed.reason


def test_a_dead_worker_makes_a_run_lost_until_its_chain_is_poison() -> None:
    assert worker_died(1) == (S.LOST, "") and worker_died(2) == (S.LOST, "")
    status, prefix = worker_died(3)
    assert status is S.FAILED and prefix.startswith("poison run: its worker died 3 times")


@pytest.mark.parametrize(
    ("concurrency", "cap"),
    [
        ({}, None),
        ({"overlap": "allow"}, None),
        ({"overlap": "skip"}, 1),
        ({"overlap": "queue"}, 1),
        ({"overlap": "allow", "max_running": 3}, 3),
        ({"overlap": "skip", "max_running": 2}, 2),
    ],
)
def test_concurrency_cap(concurrency: dict[str, object], cap: int | None) -> None:
    assert concurrency_cap({"concurrency": concurrency}) == cap
