/**
 * The scheduler moves a job's `next_fire_at` forward when it fires, without a job event. A list
 * that shows a next fire in the past is therefore stale: refetch it shortly.
 */
import type { Job } from "../api/types";

export const PAST_FIRE_GRACE_MS = 2_000;
export const PAST_FIRE_REFETCH_MS = 5_000;

export function hasPastFire(jobs: readonly Job[], now: number): boolean {
  return jobs.some(
    (j) => j.enabled && !j.paused && j.next_fire_at && Date.parse(j.next_fire_at) < now - PAST_FIRE_GRACE_MS,
  );
}

/** The refetch interval: the polling one, or a short one while a next fire is in the past. */
export function jobsRefetchInterval(jobs: readonly Job[], poll: number | false, now = Date.now()): number | false {
  if (!hasPastFire(jobs, now)) return poll;
  return poll === false ? PAST_FIRE_REFETCH_MS : Math.min(poll, PAST_FIRE_REFETCH_MS);
}
