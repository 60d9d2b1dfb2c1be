"""Pure run-lifecycle rules: which transitions are legal and whether a finished run is retried.

No I/O and no clock reads: callers pass the time and the random source, so every rule is a plain
function test away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hydra_jobs.models import RETRYABLE, TERMINAL, Retries, RunStatus

S = RunStatus

ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    S.PENDING: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    S.QUEUED: frozenset({S.RUNNING, S.PENDING, S.CANCELLED, S.FAILED, S.LOST}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.LOST}),
}

POISON_LOST_COUNT = 3  # a run chain whose worker died this many times is failed as poison


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    """Terminal states are final; everything else follows `ALLOWED`."""
    if current in TERMINAL:
        return False
    return new in ALLOWED.get(current, frozenset())


def sources_for(new: RunStatus) -> frozenset[RunStatus]:
    """Every status from which `new` may be reached: the `expected` set of a compare-and-set."""
    return frozenset(cur for cur, targets in ALLOWED.items() if new in targets)


@dataclass(frozen=True, slots=True)
class RetryDecision:
    retry: bool
    delay_seconds: float = 0.0
    final_status: RunStatus | None = None  # set when the chain must end differently (poison)
    reason: str = ""


def backoff_delay(policy: Retries, attempt: int, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1`: exponential, capped, with symmetric jitter."""
    base = policy.backoff_seconds * policy.backoff_factor ** max(0, attempt - 1)
    base = min(base, policy.max_backoff_seconds)
    if policy.jitter and base > 0:
        spread = (rng or random).uniform(-policy.jitter, policy.jitter)
        base *= 1.0 + spread
    return max(0.0, base)


def decide_retry(
    policy: Retries,
    *,
    attempt: int,
    status: RunStatus,
    lost_count: int = 0,
    rng: random.Random | None = None,
    poison_after: int = POISON_LOST_COUNT,
) -> RetryDecision:
    """Should a run that ended in `status` on attempt `attempt` get another attempt?

    `lost_count` counts the lost attempts in the chain including this one; a chain that keeps
    killing its workers is stopped as poison even when attempts remain.
    """
    if status not in RETRYABLE:
        return RetryDecision(False, reason=f"{status.value} runs are not retried")
    if status is RunStatus.LOST and lost_count >= poison_after:
        return RetryDecision(
            False,
            final_status=RunStatus.FAILED,
            reason=f"poison run: its worker died {lost_count} times",
        )
    if attempt >= policy.max_attempts:
        return RetryDecision(False, reason=f"no attempts left ({attempt}/{policy.max_attempts})")
    delay = backoff_delay(policy, attempt, rng)
    return RetryDecision(True, delay_seconds=delay, reason=f"attempt {attempt + 1} in {delay:.1f}s")
