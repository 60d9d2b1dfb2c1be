/** A Job as the API returns it, for component tests. */
import type { Job } from "../api/types";

export function makeJob(over: Partial<Job> = {}): Job {
  return {
    id: "job-1",
    name: "job",
    domain: "default",
    executor: { type: "shell", script: "true" },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    catchup: "none",
    keep_daemons: false,
    domain_notify: true,
    enabled: true,
    paused: false,
    queue: "default",
    next_fire_at: null,
    ...over,
  };
}
