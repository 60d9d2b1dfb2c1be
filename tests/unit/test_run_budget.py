"""The per-domain cap on runs created per minute (HYDRA_MAX_RUNS_PER_MINUTE), with no clock."""

from __future__ import annotations

import math

import pytest

from hydra_jobs.run_budget import RunBudget


def test_a_minute_worth_at_once_then_the_cap_rate() -> None:
    budget = RunBudget(60)  # one a second
    assert [budget.take("a", 1, 0.0) for _ in range(60)] == [0.0] * 60
    assert budget.take("a", 1, 0.0) == pytest.approx(1.0)
    assert budget.take("a", 3, 0.5) == pytest.approx(2.5)  # nothing spent when refused
    assert budget.take("a", 1, 1.0) == 0.0
    assert budget.take("a", 1, 1.0) == pytest.approx(1.0)


def test_domains_are_counted_apart() -> None:
    budget = RunBudget(2)
    assert budget.take("a", 2, 0.0) == 0.0 and budget.take("a", 1, 0.0) > 0
    assert budget.take("b", 2, 0.0) == 0.0


def test_more_than_a_minute_worth_never_fits() -> None:
    assert RunBudget(10).take("a", 11, 0.0) == math.inf


def test_unused_time_is_not_saved_beyond_a_minute_worth() -> None:
    budget = RunBudget(10)
    assert budget.take("a", 10, 3600.0) == 0.0
    assert budget.take("a", 1, 3600.0) > 0


def test_owed_retries_are_charged_into_bounded_debt() -> None:
    budget = RunBudget(60)
    budget.charge("a", 500, 0.0)  # never refused, but only one minute's worth of debt
    assert budget.take("a", 1, 0.0) == pytest.approx(61.0)
    assert budget.take("a", 1, 61.0) == 0.0


def test_zero_means_no_cap() -> None:
    budget = RunBudget(0)
    budget.charge("a", 10**6, 0.0)
    assert budget.take("a", 10**6, 0.0) == 0.0
