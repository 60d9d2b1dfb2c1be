/** Runs: filtered history pages, one run, cancel and retry. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk, type RunFilter } from "../api/queryKeys";
import { isTerminal, type Run, type RunStatus } from "../api/types";
import { patchRunDetail } from "../live/cachePatch";
import { usePollInterval } from "../live/useConnection";

export function useRuns(filter: RunFilter, cursor: string | null = null) {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: qk.runs(filter, cursor),
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) =>
      unwrap(
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
      ),
    refetchInterval,
  });
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
    void client.invalidateQueries({ queryKey: qk.runsAll });
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
