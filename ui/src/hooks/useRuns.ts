/** Runs: filtered history pages, one run, cancel and retry. */
import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap } from "../api/client";
import { qk, type RunFilter } from "../api/queryKeys";
import { isTerminal, type Run, type RunStatus } from "../api/types";
import { patchRunDetail } from "../live/cachePatch";
import { usePollInterval } from "../live/useConnection";
import { rereadAfterWrite } from "../api/reread";

function fetchRuns(filter: RunFilter, cursor: string | null, signal: AbortSignal) {
  return unwrap(
    api.GET("/api/v1/runs", {
      params: {
        query: {
          job_id: filter.jobId ?? null,
          worker_id: filter.workerId ?? null,
          status: filter.statuses && filter.statuses.length > 0 ? (filter.statuses as RunStatus[]) : null,
          since: filter.since ?? null,
          until: filter.until ?? null,
          limit: filter.limit ?? 50,
          cursor,
        },
      },
      signal,
    }),
  );
}

/** Asks for a filter's newest page before its page's code has loaded (see preloadRoute). */
export function prefetchRuns(client: QueryClient, filter: RunFilter): Promise<unknown> {
  return client.query({ queryKey: qk.runs(filter, null), queryFn: ({ signal }) => fetchRuns(filter, null, signal) });
}

export function useRuns(filter: RunFilter, cursor: string | null = null) {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: qk.runs(filter, cursor),
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => fetchRuns(filter, cursor, signal),
    refetchInterval,
  });
}

/** Reads the page after this one ahead, so "Older" shows it at once (it is 5 ms for the API). */
export function usePrefetchRuns(filter: RunFilter, cursor: string | null) {
  const client = useQueryClient();
  const key = JSON.stringify(filter);
  useEffect(() => {
    if (cursor === null) return;
    // A failed read-ahead shows nothing: the page asks again when it is opened.
    client.query({ queryKey: qk.runs(filter, cursor), queryFn: ({ signal }) => fetchRuns(filter, cursor, signal) }).catch(() => undefined);
    // The filter is rebuilt from the address on each render: its content is what counts.
  }, [client, key, cursor]); // eslint-disable-line react-hooks/exhaustive-deps
}

export function useRun(id: string | undefined) {
  const poll = usePollInterval(2_000);
  return useQuery({
    queryKey: qk.run(id ?? ""),
    enabled: Boolean(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: id ?? "" } }, signal })),
    // While polling, a finished run needs no refresh.
    refetchInterval: (query) => (query.state.data && isTerminal(query.state.data.status) ? false : poll),
  });
}

function useRunWritten() {
  const client = useQueryClient();
  return (run: Run) => {
    client.setQueryData<Run>(qk.run(run.id), (current) => (current ? { ...patchRunDetail(current, run), spec: run.spec } : run));
    void rereadAfterWrite(client, qk.runsAll);
  };
}

export function useCancelRun() {
  const written = useRunWritten();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/runs/{run_id}/cancel", { params: { path: { run_id: id } } })),
    onSuccess: written,
  });
}

export function useRetryRun() {
  const written = useRunWritten();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/runs/{run_id}/retry", { params: { path: { run_id: id } } })),
    onSuccess: written,
  });
}
