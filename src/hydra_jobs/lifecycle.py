"""Pure run policies: whether a finished run is retried, when a dead worker's run is poison, and
how many runs of a job may be active. Which statuses exist and which changes are legal is
`status.py`'s; these rules decide which of those changes a run gets.

No I/O and no clock reads: callers pass the random source, so every rule is a plain function
test away.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hydra_jobs.job_spec import Overlap, Retries
from hydra_jobs.status import RETRYABLE, RunStatus

POISON_LOST_COUNT = 3  # a run chain whose worker died this many times is failed as poison


def concurrency_cap(spec: Mapping[str, Any]) -> int | None:
    """How many runs of a job may be active at once (None: no limit), from its spec JSON.

    `max_running` when set; otherwise 1 for every overlap policy but `allow`, so `skip` or
    `queue` alone mean "one at a time", as cron users expect.
    """
    conc = spec.get("concurrency") or {}
    if conc.get("max_running") is not None:
        return int(conc["max_running"])
    return None if conc.get("overlap", Overlap.ALLOW.value) == Overlap.ALLOW.value else 1


def worker_died(lost_count: int, poison_after: int = POISON_LOST_COUNT) -> tuple[RunStatus, str]:
    """How a run ends whose worker died: `lost` (retried by its policy), or, once its chain has
    lost `poison_after` workers (`lost_count` includes this one), `failed` as poison, decided
    here so that the run reaches its final state in one step and never goes `lost`, then
    `failed`. Returns the status and what to prefix its error with ("" for plain lost)."""
    if lost_count >= poison_after:
        return RunStatus.FAILED, f"poison run: its worker died {lost_count} times; the last: "
    return RunStatus.LOST, ""


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
    if lost_count >= poison_after:
        # The chain ended `failed` as poison (see `worker_died`): no attempt follows it.
        return RetryDecision(
            False,
            final_status=RunStatus.FAILED,
            reason=f"poison run: its worker died {lost_count} times",
        )
    if attempt >= policy.max_attempts:
        return RetryDecision(False, reason=f"no attempts left ({attempt}/{policy.max_attempts})")
    delay = backoff_delay(policy, attempt, rng)
    return RetryDecision(True, delay_seconds=delay, reason=f"attempt {attempt + 1} in {delay:.1f}s")
