/** Capped exponential backoff with jitter, as a pure function of the failure count. */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± fraction of each delay, so many tabs do not reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before attempt number `failures` + 1 (failures >= 1). `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, failures - 1));
  const spread = base * policy.jitter * (2 * random - 1);
  return Math.max(0, Math.round(base + spread));
}
