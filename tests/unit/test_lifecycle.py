"""Pure lifecycle rules: the transition table (derived from the moves production makes), retry
decisions, backoff, concurrency caps."""

from __future__ import annotations

import dataclasses
import random

import pytest

from hydra_jobs.job_spec import Retries
from hydra_jobs.lifecycle import backoff_delay, concurrency_cap, decide_retry, worker_died
from hydra_jobs.status import (
    ALLOWED,
    BORN,
    FINISH,
    MOVES,
    START,
    TERMINAL,
    WORKER_LOST,
    IllegalTransition,
    RunStatus,
    SetStatus,
    can_transition,
    rank,
    transition,
)

S = RunStatus


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
@pytest.mark.parametrize("target", list(RunStatus))
def test_terminal_states_are_final(terminal: RunStatus, target: RunStatus) -> None:
    assert not can_transition(terminal, target)
    assert terminal not in ALLOWED


def test_the_table_is_the_moves_and_nothing_else() -> None:
    pairs = {(s, t) for m in MOVES for s in m.sources for t in m.targets}
    assert {(s, t) for s, targets in ALLOWED.items() for t in targets} == pairs
    assert len({m.name for m in MOVES}) == len(MOVES)


@pytest.mark.parametrize(
    ("current", "new", "ok"),
    [
        (S.PENDING, S.QUEUED, True),  # dispatch
        (S.PENDING, S.CANCELLED, True),  # cancel_waiting
        (S.QUEUED, S.CANCELLED, True),  # cancel_waiting
        (S.QUEUED, S.RUNNING, True),  # start
        (S.QUEUED, S.SUCCEEDED, True),  # start_and_finish: a quick run in one ingest batch
        (S.QUEUED, S.LOST, True),  # lost_while_starting, or a quick run its worker lost
        (S.QUEUED, S.FAILED, True),  # lost_while_starting as poison
        (S.RUNNING, S.SUCCEEDED, True),  # finish
        (S.RUNNING, S.LOST, True),  # worker_lost
        (S.RUNNING, S.RUNNING, True),  # request_cancel marks it
        # Never made by production:
        (S.PENDING, S.RUNNING, False),
        (S.PENDING, S.FAILED, False),
        (S.PENDING, S.SKIPPED, False),
        (S.QUEUED, S.PENDING, False),
        (S.QUEUED, S.SKIPPED, False),
        (S.RUNNING, S.QUEUED, False),
        (S.RUNNING, S.PENDING, False),
        (S.RUNNING, S.SKIPPED, False),
    ],
)
def test_transitions(current: RunStatus, new: RunStatus, ok: bool) -> None:
    assert can_transition(current, new) is ok


def test_no_transition_moves_a_run_back() -> None:
    for current, targets in ALLOWED.items():
        for new in targets:
            assert rank(new) >= rank(current), (current, new)
    assert rank("a status from a newer version") == rank(S.SUCCEEDED)


def test_runs_are_born_waiting_or_skipped() -> None:
    assert {S.PENDING, S.QUEUED, S.SKIPPED} == BORN


def test_transition_makes_the_moves_compare_and_set() -> None:
    op = transition(FINISH, "r", S.TIMED_OUT, {"exit_code": None}, worker_id="w")
    assert (op.run_id, op.expected, op.status, op.fields, op.worker_id, op.move) == (
        "r",
        frozenset({S.RUNNING}),
        S.TIMED_OUT,
        {"exit_code": None},
        "w",
        "finish",
    )
    assert transition(START, "r").status is S.RUNNING  # one target: no need to name it


def test_transition_refuses_a_status_its_move_does_not_lead_to() -> None:
    with pytest.raises(IllegalTransition, match="worker_lost does not lead to succeeded"):
        transition(WORKER_LOST, "r", S.SUCCEEDED)
    with pytest.raises(IllegalTransition, match="say which"):
        transition(FINISH, "r")


def test_a_status_change_is_made_by_transition_only() -> None:
    with pytest.raises(TypeError, match="transition"):
        SetStatus("r", frozenset({S.QUEUED}), S.RUNNING)
    with pytest.raises(TypeError, match="transition"):
        SetStatus("r", frozenset({S.QUEUED}), S.RUNNING, token=object())
    op = transition(START, "r")
    assert dataclasses.replace(op, fields={"worker_id": "w"}).fields == {"worker_id": "w"}
    with pytest.raises(IllegalTransition, match="from \\['running'\\] to pending"):
        dataclasses.replace(op, expected=frozenset({S.RUNNING}), status=S.PENDING)
    with pytest.raises(IllegalTransition, match="from \\['succeeded'\\] to failed"):
        dataclasses.replace(op, expected=frozenset({S.SUCCEEDED}), status=S.FAILED)


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
    # Both ends are where the reaper's moves lead.
    assert {worker_died(1)[0], status} == WORKER_LOST.targets


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
