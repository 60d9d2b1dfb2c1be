/** Jobs: the list (cursor pages), one job, and the actions on jobs. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import type { Job, JobSpec, Run } from "../api/types";
import { jobsRefetchInterval } from "../jobs/nextFire";
import { patchRunDetail } from "../live/cachePatch";
import { usePollInterval } from "../live/useConnection";
import { rereadAfterWrite } from "../api/reread";

const JOBS_PAGE = 200;

export function useJobs(search = "") {
  const refetchInterval = usePollInterval();
  return useInfiniteQuery({
    queryKey: qk.jobs(search),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/jobs", {
          params: { query: { limit: JOBS_PAGE, cursor: pageParam, search: search || null } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
    refetchInterval: (query) => jobsRefetchInterval(query.state.data?.pages.flatMap((p) => p.items) ?? [], refetchInterval),
  });
}

export function useJob(id: string | undefined) {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: qk.job(id ?? ""),
    enabled: Boolean(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: id ?? "" } }, signal })),
    refetchInterval: (query) => jobsRefetchInterval(query.state.data ? [query.state.data] : [], refetchInterval),
  });
}

function useJobWritten() {
  const client = useQueryClient();
  return (job: Job) => {
    client.setQueryData(qk.job(job.id), job);
    void rereadAfterWrite(client, qk.jobsAll);
    void rereadAfterWrite(client, qk.jobVersionsAll(job.id));
  };
}

export function useCreateJob() {
  const written = useJobWritten();
  return useMutation({
    mutationFn: (spec: JobSpec) => unwrap(api.POST("/api/v1/jobs", { body: spec })),
    onSuccess: written,
  });
}

export function useReplaceJob(id: string) {
  const written = useJobWritten();
  return useMutation({
    mutationFn: (spec: JobSpec) =>
      unwrap(api.PUT("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } }, body: spec })),
    onSuccess: written,
  });
}

export function useDeleteJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await unwrap(api.DELETE("/api/v1/jobs/{job_id}", { params: { path: { job_id: id } } }));
      return id;
    },
    onSuccess: (id) => {
      client.removeQueries({ queryKey: qk.job(id) });
      void rereadAfterWrite(client, qk.jobsAll);
    },
  });
}

export function usePauseJob() {
  const written = useJobWritten();
  return useMutation({
    mutationFn: ({ id, paused }: { id: string; paused: boolean }) =>
      unwrap(
        paused
          ? api.POST("/api/v1/jobs/{job_id}/pause", { params: { path: { job_id: id } } })
          : api.POST("/api/v1/jobs/{job_id}/resume", { params: { path: { job_id: id } } }),
      ),
    onSuccess: written,
  });
}

export function useRunJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, params }: { id: string; params: Record<string, string> }) =>
      unwrap(
        api.POST("/api/v1/jobs/{job_id}/run", {
          params: { path: { job_id: id } },
          body: { params, trigger: "manual" },
        }),
      ),
    onSuccess: (run: Run) => {
      // The stream may already know more than this answer: never move a run backwards.
      client.setQueryData<Run>(qk.run(run.id), (current) => (current ? patchRunDetail(current, run) : run));
      void rereadAfterWrite(client, qk.runsAll);
    },
  });
}
