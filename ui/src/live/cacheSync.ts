/**
 * Folds /events into the TanStack Query cache: runs and jobs are patched in place, lists that may
 * gain a new row are invalidated (batched), the dashboard numbers are read again through one
 * coalesced refetch (statsRefresh.ts), `reset` refetches everything and a resumed stream the
 * numbers (cheap: the server shares one reading among all viewers).
 */
import type { Query, QueryClient } from "@tanstack/react-query";
import { qk, type RunFilter } from "../api/queryKeys";
import { FAILURE_STATUSES, type Job, type Run, type RunPage, type RunSummary, type Worker } from "../api/types";
import {
  applyRunToJob,
  applyRunToJobPages,
  patchJobPages,
  patchRunDetail,
  patchRunPage,
  upsertWorker,
  wouldChange,
  type InfiniteJobs,
} from "./cachePatch";
import { asJobEvent, asRunEvent, asWorkerEvent } from "./events";
import { Invalidator } from "./invalidator";
import { CoalescedRefetch } from "./statsRefresh";

const LIST_REFRESH_MS = 400;
/** Between two stats requests of this page (the server reads them once a second per domain). */
export const STATS_REFRESH_MS = 1_000;

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

const REMEMBER_RUNS = 1_000;

/** The query is fetching: whatever it gets back was read before the event being applied. */
function isInFlight(query: Query): boolean {
  return query.state.fetchStatus === "fetching";
}

/** A job from an event without its `waiting_reason`: the server computes that only when a job is
 * read (from the online workers), so an event's is always empty; the cached one stays. */
export function withoutWaitingReason(job: Job): Job {
  const { waiting_reason: _unknown, ...rest } = job;
  return rest;
}

export class CacheSync {
  private readonly invalidator: Invalidator;
  private readonly stats: CoalescedRefetch;
  /** The newest state seen per run, to correct HTTP answers that raced past the stream. */
  private readonly latest = new Map<string, RunSummary>();
  private readonly unsubscribe: () => void;

  constructor(private readonly client: QueryClient) {
    this.invalidator = new Invalidator(client);
    this.stats = new CoalescedRefetch(() => this.refetchStats(), STATS_REFRESH_MS);
    this.unsubscribe = client.getQueryCache().subscribe((event) => {
      if (event.type === "updated" && event.action.type === "success") this.reconcile(event.query as Query);
    });
  }

  /** A run query just got data: fold in any newer state the stream already delivered. */
  private reconcile(query: Query): void {
    const [root, kind, id] = query.queryKey;
    if (root !== "runs" || this.latest.size === 0) return;
    if (kind === "detail" && typeof id === "string") {
      const seen = this.latest.get(id);
      const detail = query.state.data as Run | undefined;
      if (seen && detail && wouldChange(detail, seen)) {
        this.client.setQueryData(query.queryKey, patchRunDetail(detail, seen));
      }
    } else if (kind === "list") {
      let page = query.state.data as RunPage | undefined;
      if (!page) return;
      const start = page;
      for (const item of start.items) {
        const seen = this.latest.get(item.id);
        if (seen && wouldChange(item, seen)) page = patchRunPage(page, seen).page;
      }
      if (page !== start) this.client.setQueryData(query.queryKey, page);
    }
  }

  private remember(run: RunSummary): void {
    this.latest.delete(run.id);
    this.latest.set(run.id, run);
    if (this.latest.size > REMEMBER_RUNS) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
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

  /** The stream resumed from Last-Event-ID: the server replays the gap, and the numbers are
   * read again anyway (a viewer cut off for being slow may have missed their last change). */
  onResumed = (): void => {
    this.stats.request();
  };

  /**
   * Shown stats are refetched without cancelling one on its way (`cancelRefetch: false`); stats
   * not shown are marked stale, to be read when shown. A request already on its way (a mount, a
   * poll) may have been sent before the change: it is let finish, then asked again.
   */
  private async refetchStats(): Promise<void> {
    const c = this.client;
    await c.invalidateQueries({ queryKey: qk.statsAll, refetchType: "none" });
    const shown = { queryKey: qk.statsAll, type: "active" } as const;
    if (c.isFetching({ queryKey: qk.statsAll }) > 0) await c.refetchQueries(shown, { cancelRefetch: false });
    await c.refetchQueries(shown, { cancelRefetch: false });
  }

  /**
   * A fresh stream (not a resume) is up. Data read before the server started listening for us
   * may have missed changes: refetch what was fetched before now or is still being fetched.
   */
  onFreshStream = (now = Date.now()): void => {
    void this.client.invalidateQueries({
      predicate: (q) => q.state.fetchStatus === "fetching" || (q.state.dataUpdatedAt > 0 && q.state.dataUpdatedAt <= now),
    });
  };

  dispose(): void {
    this.unsubscribe();
    this.invalidator.cancel();
    this.stats.cancel();
  }

  private run(run: RunSummary): void {
    const c = this.client;
    this.remember(run);
    c.setQueryData<Run>(qk.run(run.id), (detail) => (detail ? patchRunDetail(detail, run) : detail));
    for (const query of c.getQueryCache().findAll({ queryKey: qk.runsAll })) {
      const page = query.state.data as RunPage | undefined;
      const patched = page ? patchRunPage(page, run) : null;
      if (patched?.found) c.setQueryData(query.queryKey, patched.page);
      // An in-flight answer is corrected on arrival by `reconcile`; only a list that may gain
      // this run needs fetching again.
      if (!patched?.found && this.listWouldShow(query, run)) {
        this.invalidator.schedule(query.queryKey, LIST_REFRESH_MS, true);
      }
    }
    c.setQueriesData<InfiniteJobs>({ queryKey: qk.jobsAll }, (d) => (d ? applyRunToJobPages(d, run) : d));
    c.setQueryData<Job>(qk.job(run.job_id), (job) => (job ? applyRunToJob(job, run) : job));
    this.stats.request();
    // A new failure may join a group ("failed the same way N times"): ask again if shown.
    if (FAILURE_STATUSES.has(run.status)) this.invalidator.schedule(qk.jobFailures(run.job_id), LIST_REFRESH_MS, true);
  }

  private listWouldShow(query: Query, run: RunSummary): boolean {
    const [, , filter, cursor] = query.queryKey as readonly [string, string, RunFilter?, (string | null)?];
    return runMatchesFilter(run, filter ?? {}, cursor ?? null);
  }

  private job(jobId: string, changed: Job | null): void {
    const c = this.client;
    const job = changed && withoutWaitingReason(changed);
    if (job) c.setQueryData<Job>(qk.job(jobId), (current) => (current ? { ...current, ...job } : job));
    else c.removeQueries({ queryKey: qk.job(jobId) });
    void c.invalidateQueries({ queryKey: qk.jobVersionsAll(jobId) });
    for (const query of c.getQueryCache().findAll({ queryKey: qk.jobsAll })) {
      const data = query.state.data as InfiniteJobs | undefined;
      const patched = data ? patchJobPages(data, jobId, job) : null;
      if (patched) c.setQueryData(query.queryKey, patched.data);
      // A new job needs the list again; so does any list whose answer is still on its way (it
      // was read before this change and would overwrite the patch).
      if ((job && !patched?.found) || isInFlight(query)) {
        this.invalidator.schedule(query.queryKey, LIST_REFRESH_MS, true);
      }
    }
  }

  private worker(worker: Worker): void {
    let statusChanged = false;
    this.client.setQueryData<WorkerList>(qk.workers, (list) => {
      if (!list) return list;
      const before = list.items.find((w) => w.id === worker.id);
      statusChanged = before?.status !== worker.status;
      return { ...list, items: upsertWorker(list.items, worker) };
    });
    if (statusChanged) {
      this.stats.request();
      // Which jobs no online worker can run (`waiting_reason`) may have changed.
      this.invalidator.schedule(qk.jobsAll, LIST_REFRESH_MS);
    }
  }
}
