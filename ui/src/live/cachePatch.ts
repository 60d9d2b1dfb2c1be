/** Pure updaters that fold one live event into cached API data (no I/O, unit-tested). */
import type { Job, JobPage, Run, RunPage, RunStatus, RunSummary, Worker } from "../api/types";

export interface InfiniteJobs {
  pages: JobPage[];
  pageParams: unknown[];
}

const RANK: Record<RunStatus, number> = {
  pending: 0,
  queued: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  timed_out: 3,
  cancelled: 3,
  lost: 3,
  skipped: 3,
};

/**
 * Whether `next` may replace `current`: a run only moves forward (pending → queued → running →
 * terminal). An older snapshot (a slow HTTP answer racing the event stream) never wins.
 */
export function isNotOlder(current: RunSummary, next: RunSummary): boolean {
  const a = RANK[current.status];
  const b = RANK[next.status];
  if (b !== a) return b > a;
  if (a === 3) return current.status === next.status || !current.finished_at;
  return true;
}

/** Whether folding `next` into `current` would change anything. */
export function wouldChange(current: RunSummary, next: RunSummary): boolean {
  if (!isNotOlder(current, next)) return false;
  const a = current as Record<string, unknown>;
  return Object.entries(next).some(([key, value]) => JSON.stringify(a[key]) !== JSON.stringify(value));
}

/** Replace the run in a page if present; `found` says whether it was. */
export function patchRunPage(page: RunPage, run: RunSummary): { page: RunPage; found: boolean } {
  const index = page.items.findIndex((r) => r.id === run.id);
  const current = page.items[index];
  if (index === -1 || !current) return { page, found: false };
  if (!isNotOlder(current, run)) return { page, found: true };
  const items = page.items.slice();
  items[index] = { ...current, ...run };
  return { page: { ...page, items }, found: true };
}

/** A run detail keeps its `spec` (summaries have none) and never moves backwards. */
export function patchRunDetail(detail: Run, run: RunSummary): Run {
  if (!isNotOlder(detail, run)) return detail;
  return { ...detail, ...run, spec: detail.spec };
}

/** The job's "last run" columns follow its newest run. */
export function applyRunToJob(job: Job, run: RunSummary): Job {
  if (job.id !== run.job_id) return job;
  const isLast = job.last_run_id === run.id;
  const isNewer = !job.last_run_at || Date.parse(run.created_at) >= Date.parse(job.last_run_at);
  if (!isLast && !isNewer) return job;
  return { ...job, last_run_id: run.id, last_run_status: run.status, last_run_at: run.created_at };
}

function mapJobPages(data: InfiniteJobs, fn: (job: Job) => Job | null): { data: InfiniteJobs; found: boolean } {
  let found = false;
  const pages = data.pages.map((page) => {
    let changed = false;
    const items: Job[] = [];
    for (const job of page.items) {
      const next = fn(job);
      if (next !== job) {
        changed = true;
        found = true;
      }
      if (next) items.push(next);
    }
    return changed ? { ...page, items } : page;
  });
  return { data: found ? { ...data, pages } : data, found };
}

export function applyRunToJobPages(data: InfiniteJobs, run: RunSummary): InfiniteJobs {
  return mapJobPages(data, (job) => applyRunToJob(job, run)).data;
}

/** Upsert or delete one job in the list; `found` false means the list needs a refetch. */
export function patchJobPages(
  data: InfiniteJobs,
  jobId: string,
  job: Job | null,
): { data: InfiniteJobs; found: boolean } {
  return mapJobPages(data, (current) => {
    if (current.id !== jobId) return current;
    return job ? { ...current, ...job } : null;
  });
}

export function upsertWorker(items: Worker[], worker: Worker): Worker[] {
  const index = items.findIndex((w) => w.id === worker.id);
  if (index === -1) return [...items, worker];
  const next = items.slice();
  next[index] = worker;
  return next;
}
