/** Job history: a job's versions (newest first), one version with its spec, and restoring one. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import type { Job } from "../api/types";
import { rereadAfterWrite } from "../api/reread";

const VERSIONS_PAGE = 50;

export function useJobVersions(jobId: string, cursor: string | null = null) {
  return useQuery({
    queryKey: qk.jobVersions(jobId, cursor),
    enabled: Boolean(jobId),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/jobs/{job_id}/versions", {
          params: { path: { job_id: jobId }, query: { limit: VERSIONS_PAGE, cursor: cursor === null ? null : Number(cursor) } },
          signal,
        }),
      ),
  });
}

/** One version with its spec; `version` 0 (there is none before version 1) asks nothing. */
export function useJobVersion(jobId: string, version: number) {
  return useQuery({
    queryKey: qk.jobVersion(jobId, version),
    enabled: Boolean(jobId) && version >= 1,
    staleTime: Infinity, // a saved version never changes
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/jobs/{job_id}/versions/{version}", {
          params: { path: { job_id: jobId, version } },
          signal,
        }),
      ),
  });
}

export function useRestoreJobVersion(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (version: number) =>
      unwrap(
        api.POST("/api/v1/jobs/{job_id}/versions/{version}/restore", {
          params: { path: { job_id: jobId, version } },
        }),
      ),
    onSuccess: (job: Job) => {
      client.setQueryData<Job>(qk.job(job.id), (current) => (current ? { ...current, ...job } : job));
      void rereadAfterWrite(client, qk.jobVersionsAll(job.id));
      void rereadAfterWrite(client, qk.jobsAll);
    },
  });
}
