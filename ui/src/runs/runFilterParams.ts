/** The runs page's filter lives in the URL (?status=failed&job=…&worker=…&since=…&until=…) so views can be linked. */
import type { RunFilter } from "../api/queryKeys";
import { RUN_STATUSES, type RunStatus } from "../api/types";

export function filterFromParams(params: URLSearchParams): RunFilter {
  const statuses = params.getAll("status").filter((s): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s));
  const filter: RunFilter = {};
  if (statuses.length) filter.statuses = statuses;
  const job = params.get("job");
  if (job) filter.jobId = job;
  const worker = params.get("worker");
  if (worker) filter.workerId = worker;
  const since = params.get("since");
  if (since && !Number.isNaN(Date.parse(since))) filter.since = since;
  const until = params.get("until");
  if (until && !Number.isNaN(Date.parse(until))) filter.until = until;
  return filter;
}

export function paramsFromFilter(filter: RunFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const s of filter.statuses ?? []) params.append("status", s);
  if (filter.jobId) params.set("job", filter.jobId);
  if (filter.workerId) params.set("worker", filter.workerId);
  if (filter.since) params.set("since", filter.since);
  if (filter.until) params.set("until", filter.until);
  return params;
}
