import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { qk } from "../api/queryKeys";
import type { Job, Run, RunPage, RunSummary, Worker } from "../api/types";
import { CacheSync, runMatchesFilter } from "./cacheSync";
import type { InfiniteJobs } from "./cachePatch";

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: "r1",
    job_id: "j1",
    job_name: "hello",
    domain: "default",
    status: "running",
    trigger: "manual",
    created_at: "2026-01-01T00:00:00Z",
    attempt: 1,
    cancel_requested: false,
    log_size: 0,
    log_truncated: false,
    lost_count: 0,
    queue: "default",
    ...over,
  };
}

function job(over: Partial<Job> = {}): Job {
  return {
    id: "j1",
    name: "hello",
    domain: "default",
    executor: { type: "shell", script: "true" },
    created_at: "2025-12-31T00:00:00Z",
    updated_at: "2025-12-31T00:00:00Z",
    catchup: "none",
    keep_daemons: false,
    domain_notify: true,
    enabled: true,
    paused: false,
    queue: "default",
    ...over,
  };
}

function worker(over: Partial<Worker> = {}): Worker {
  return {
    id: "w1",
    domain: "default",
    name: "vm",
    hostname: "vm",
    platform: "linux",
    version: "0",
    executors: ["shell"],
    queues: ["default"],
    concurrency: 4,
    status: "online",
    started_at: "2026-01-01T00:00:00Z",
    last_heartbeat_at: "2026-01-01T00:00:00Z",
    ...over,
  };
}

describe("CacheSync", () => {
  let client: QueryClient;
  let sync: CacheSync;
  beforeEach(() => {
    vi.useFakeTimers();
    client = new QueryClient();
    sync = new CacheSync(client);
  });
  afterEach(() => {
    sync.dispose();
    client.clear();
    vi.useRealTimers();
  });

  it("patches a run in lists and in its detail, keeping the spec", () => {
    const page: RunPage = { items: [summary({ status: "queued" })], next_cursor: null };
    client.setQueryData(qk.runs({}, null), page);
    const detail = { ...summary({ status: "queued" }), spec: { name: "hello", executor: { type: "shell", script: "x" } } } as Run;
    client.setQueryData(qk.run("r1"), detail);
    const invalidate = vi.spyOn(client, "invalidateQueries");

    sync.onEvent("run", { type: "run", run: summary({ status: "succeeded", exit_code: 0 }) });

    expect(client.getQueryData<RunPage>(qk.runs({}, null))?.items[0]?.status).toBe("succeeded");
    const patched = client.getQueryData<Run>(qk.run("r1"));
    expect(patched?.status).toBe("succeeded");
    expect(patched?.spec.name).toBe("hello");
    vi.advanceTimersByTime(500);
    expect(invalidate).not.toHaveBeenCalledWith(expect.objectContaining({ queryKey: qk.runs({}, null) }));
  });

  it("never lets a slower HTTP answer move a run backwards (stream raced ahead)", () => {
    // The stream reports the run running before the POST /run answer (pending) lands in the cache.
    sync.onEvent("run", { type: "run", run: summary({ status: "running" }) });
    const stale = { ...summary({ status: "pending" }), spec: { name: "hello", executor: { type: "shell", script: "x" } } } as Run;
    client.setQueryData(qk.run("r1"), stale);
    expect(client.getQueryData<Run>(qk.run("r1"))?.status).toBe("running");
    // And a later event does not go back either.
    sync.onEvent("run", { type: "run", run: summary({ status: "queued" }) });
    expect(client.getQueryData<Run>(qk.run("r1"))?.status).toBe("running");
    sync.onEvent("run", { type: "run", run: summary({ status: "succeeded", finished_at: "2026-01-01T00:00:05Z" }) });
    expect(client.getQueryData<Run>(qk.run("r1"))?.status).toBe("succeeded");
  });

  it("corrects a fetched run list with newer states already streamed", () => {
    sync.onEvent("run", { type: "run", run: summary({ id: "r9", status: "failed", exit_code: 3 }) });
    client.setQueryData(qk.runs({}, null), { items: [summary({ id: "r9", status: "running" })], next_cursor: null });
    expect(client.getQueryData<RunPage>(qk.runs({}, null))?.items[0]).toMatchObject({ status: "failed", exit_code: 3 });
  });

  it("refetches (batched) only the first-page lists a new run belongs to", () => {
    client.setQueryData(qk.runs({}, null), { items: [], next_cursor: null });
    client.setQueryData(qk.runs({ jobId: "other" }, null), { items: [], next_cursor: null });
    client.setQueryData(qk.runs({}, "cursor-2"), { items: [], next_cursor: null });
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.onEvent("run", { type: "run", run: summary({ id: "new1" }) });
    sync.onEvent("run", { type: "run", run: summary({ id: "new2" }) });
    expect(invalidate).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    const keys = invalidate.mock.calls.map(([f]) => JSON.stringify(f?.queryKey));
    expect(keys).toContain(JSON.stringify(qk.runs({}, null)));
    expect(keys).not.toContain(JSON.stringify(qk.runs({ jobId: "other" }, null)));
    expect(keys).not.toContain(JSON.stringify(qk.runs({}, "cursor-2")));
    expect(keys.filter((k) => k === JSON.stringify(qk.runs({}, null)))).toHaveLength(1);
  });

  it("updates a job's last run status from run events", () => {
    const jobs: InfiniteJobs = { pages: [{ items: [job()], next_cursor: null }], pageParams: [null] };
    client.setQueryData(qk.jobs(""), jobs);
    client.setQueryData(qk.job("j1"), job());
    sync.onEvent("run", { type: "run", run: summary({ status: "failed" }) });
    expect(client.getQueryData<InfiniteJobs>(qk.jobs(""))?.pages[0]?.items[0]?.last_run_status).toBe("failed");
    expect(client.getQueryData<Job>(qk.job("j1"))?.last_run_id).toBe("r1");
  });

  it("applies job changes and deletions, refetching the list for unknown jobs", () => {
    const jobs: InfiniteJobs = { pages: [{ items: [job(), job({ id: "j2", name: "two" })], next_cursor: null }], pageParams: [null] };
    client.setQueryData(qk.jobs(""), jobs);
    const invalidate = vi.spyOn(client, "invalidateQueries");

    sync.onEvent("job", { type: "job", job_id: "j1", deleted: false, job: job({ paused: true }) });
    expect(client.getQueryData<InfiniteJobs>(qk.jobs(""))?.pages[0]?.items[0]?.paused).toBe(true);
    expect(client.getQueryData<Job>(qk.job("j1"))?.paused).toBe(true);

    sync.onEvent("job", { type: "job", job_id: "j2", deleted: true });
    expect(client.getQueryData<InfiniteJobs>(qk.jobs(""))?.pages[0]?.items.map((j) => j.id)).toEqual(["j1"]);

    sync.onEvent("job", { type: "job", job_id: "j3", deleted: false, job: job({ id: "j3", name: "three" }) });
    vi.advanceTimersByTime(400);
    expect(invalidate).toHaveBeenCalledWith(expect.objectContaining({ queryKey: qk.jobs("") }));
  });

  it("upserts workers and refreshes stats when one changes status", () => {
    client.setQueryData(qk.workers, { items: [worker()], next_cursor: null });
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.onEvent("worker", { type: "worker", worker: worker({ running: ["r1"] }) });
    vi.advanceTimersByTime(2000);
    expect(invalidate).not.toHaveBeenCalled();
    sync.onEvent("worker", { type: "worker", worker: worker({ status: "draining" }) });
    sync.onEvent("worker", { type: "worker", worker: worker({ id: "w2" }) });
    const list = client.getQueryData<{ items: Worker[] }>(qk.workers);
    expect(list?.items.map((w) => [w.id, w.status])).toEqual([
      ["w1", "draining"],
      ["w2", "online"],
    ]);
    vi.advanceTimersByTime(2000);
    expect(invalidate).toHaveBeenCalledWith(expect.objectContaining({ queryKey: qk.statsAll }));
  });

  it("on a fresh stream refetches what was read before it (the gap before the server listened)", () => {
    client.setQueryData(qk.workers, { items: [], next_cursor: null });
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.onFreshStream(Date.now() + 1);
    const predicate = invalidate.mock.calls[0]?.[0]?.predicate;
    const query = client.getQueryCache().find({ queryKey: qk.workers });
    expect(query && predicate?.(query)).toBe(true);
  });

  it("ignores malformed events and refetches everything on reset", () => {
    const invalidate = vi.spyOn(client, "invalidateQueries");
    sync.onEvent("run", { run: "nope" });
    sync.onEvent("job", 42);
    sync.onEvent("worker", null);
    expect(invalidate).not.toHaveBeenCalled();
    sync.onReset();
    expect(invalidate).toHaveBeenCalledWith();
  });
});

describe("runMatchesFilter", () => {
  it("checks job, worker, status, time range and page", () => {
    const run = summary({ worker_id: "w1", status: "failed" });
    expect(runMatchesFilter(run, {}, null)).toBe(true);
    expect(runMatchesFilter(run, {}, "c2")).toBe(false);
    expect(runMatchesFilter(run, { jobId: "j2" }, null)).toBe(false);
    expect(runMatchesFilter(run, { workerId: "w1", statuses: ["failed"] }, null)).toBe(true);
    expect(runMatchesFilter(run, { statuses: ["succeeded"] }, null)).toBe(false);
    expect(runMatchesFilter(run, { since: "2026-02-01T00:00:00Z" }, null)).toBe(false);
  });
});

describe("CacheSync and lists still loading", () => {
  it("refetches a jobs list whose first answer is still on its way when a job appears", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const sync = new CacheSync(client);
    let release: (page: InfiniteJobs["pages"][number]) => void = () => undefined;
    const first = new Promise<InfiniteJobs["pages"][number]>((resolve) => {
      release = resolve;
    });
    const fetches = vi.fn().mockReturnValueOnce(first).mockResolvedValue({ items: [job({ id: "j9", name: "new" })], next_cursor: null });
    void client.infiniteQuery({ queryKey: qk.jobs(""), queryFn: fetches, initialPageParam: null, getNextPageParam: () => null }).catch(() => undefined);
    sync.onEvent("job", { type: "job", job_id: "j9", deleted: false, job: job({ id: "j9", name: "new" }) });
    release({ items: [], next_cursor: null });
    const invalidate = vi.spyOn(client, "invalidateQueries");
    await vi.advanceTimersByTimeAsync(400);
    expect(invalidate).toHaveBeenCalledWith(expect.objectContaining({ queryKey: qk.jobs("") }));
    sync.dispose();
    client.clear();
    vi.useRealTimers();
  });
});
