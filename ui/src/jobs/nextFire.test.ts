import { describe, expect, it } from "vitest";
import type { Job } from "../api/types";
import { jobsRefetchInterval } from "./nextFire";

const now = Date.parse("2026-01-01T12:00:00Z");
function job(next: string | null, over: Partial<Job> = {}): Job {
  return {
    id: "j",
    name: "j",
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
    next_fire_at: next,
    ...over,
  };
}

describe("jobsRefetchInterval", () => {
  it("refetches soon when an active job's next fire has passed", () => {
    expect(jobsRefetchInterval([job("2026-01-01T11:59:00Z")], false, now)).toBe(5000);
    expect(jobsRefetchInterval([job("2026-01-01T11:59:00Z")], 3000, now)).toBe(3000);
  });
  it("keeps the normal interval otherwise", () => {
    expect(jobsRefetchInterval([job("2026-01-01T12:05:00Z"), job(null)], false, now)).toBe(false);
    expect(jobsRefetchInterval([job("2026-01-01T11:59:59Z")], false, now)).toBe(false); // within grace
    expect(jobsRefetchInterval([job("2026-01-01T11:00:00Z", { paused: true })], false, now)).toBe(false);
    expect(jobsRefetchInterval([job("2026-01-01T11:00:00Z", { enabled: false })], 5000, now)).toBe(5000);
  });
});
