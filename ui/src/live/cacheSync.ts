/**
 * Folds /events into the TanStack Query cache: runs and jobs are patched in place, lists that may
 * gain a new row and the dashboard numbers are invalidated (batched), `reset` refetches everything.
 */
import type { Query, QueryClient } from "@tanstack/react-query";
import { qk, type RunFilter } from "../api/queryKeys";
import type { Job, Run, RunPage, RunSummary, Worker } from "../api/types";
import {
  applyRunToJob,
  applyRunToJobPages,
  patchJobPages,
  patchRunDetail,
  patchRunPage,
  upsertWorker,
  type InfiniteJobs,
} from "./cachePatch";
import { asJobEvent, asRunEvent, asWorkerEvent } from "./events";
import { Invalidator } from "./invalidator";

const LIST_REFRESH_MS = 400;
const STATS_REFRESH_MS = 2_000;

interface WorkerList {
  items: Worker[];
  next_cursor?: string | null;
}

/** Would a first page listing `filter` show this run? (Later pages never gain new runs.) */
export function runMatchesFilter(run: RunSummary, filter: RunFilter, cursor: string | null): boolean {
  if (cursor !== null) return false;
  if (filter.jobId && filter.jobId !== run.job_id) return false;
  if (filter.workerId && filter.workerId !== run.worker_id) return false;
  if (filter.statuses && filter.statuses.length > 0 && !filter.statuses.includes(run.status)) return false;
  if (filter.until && Date.parse(run.created_at) > Date.parse(filter.until)) return false;
  if (filter.since && Date.parse(run.created_at) < Date.parse(filter.since)) return false;
  return true;
}

export class CacheSync {
  private readonly invalidator: Invalidator;

  constructor(private readonly client: QueryClient) {
    this.invalidator = new Invalidator(client);
  }

  onEvent = (name: string, data: unknown): void => {
    if (name === "run") {
      const event = asRunEvent(data);
      if (event) this.run(event.run);
    } else if (name === "job") {
      const event = asJobEvent(data);
      if (event) this.job(event.job_id, event.deleted ? null : (event.job ?? null));
    } else if (name === "worker") {
      const event = asWorkerEvent(data);
      if (event) this.worker(event.worker);
    }
  };

  onReset = (): void => {
    void this.client.invalidateQueries();
  };

  dispose(): void {
    this.invalidator.cancel();
  }

  private run(run: RunSummary): void {
    const c = this.client;
    c.setQueryData<Run>(qk.run(run.id), (detail) => (detail ? patchRunDetail(detail, run) : detail));
    for (const query of c.getQueryCache().findAll({ queryKey: qk.runsAll })) {
      const page = query.state.data as RunPage | undefined;
      const patched = page ? patchRunPage(page, run) : null;
      if (patched?.found) {
        c.setQueryData(query.queryKey, patched.page);
      } else if (this.listWouldShow(query, run)) {
        this.invalidator.schedule(query.queryKey, LIST_REFRESH_MS, true);
      }
    }
    c.setQueriesData<InfiniteJobs>({ queryKey: qk.jobsAll }, (d) => (d ? applyRunToJobPages(d, run) : d));
    c.setQueryData<Job>(qk.job(run.job_id), (job) => (job ? applyRunToJob(job, run) : job));
    this.invalidator.schedule(qk.statsAll, STATS_REFRESH_MS);
  }

  private listWouldShow(query: Query, run: RunSummary): boolean {
    const [, , filter, cursor] = query.queryKey as readonly [string, string, RunFilter?, (string | null)?];
    return runMatchesFilter(run, filter ?? {}, cursor ?? null);
  }

  private job(jobId: string, job: Job | null): void {
    const c = this.client;
    if (job) c.setQueryData<Job>(qk.job(jobId), job);
    else c.removeQueries({ queryKey: qk.job(jobId) });
    let missing = false;
    c.setQueriesData<InfiniteJobs>({ queryKey: qk.jobsAll }, (d) => {
      if (!d) return d;
      const patched = patchJobPages(d, jobId, job);
      if (!patched.found && job) missing = true;
      return patched.data;
    });
    if (missing) this.invalidator.schedule(qk.jobsAll, LIST_REFRESH_MS);
  }

  private worker(worker: Worker): void {
    let statusChanged = false;
    this.client.setQueryData<WorkerList>(qk.workers, (list) => {
      if (!list) return list;
      const before = list.items.find((w) => w.id === worker.id);
      statusChanged = before?.status !== worker.status;
      return { ...list, items: upsertWorker(list.items, worker) };
    });
    if (statusChanged) this.invalidator.schedule(qk.statsAll, STATS_REFRESH_MS);
  }
}
