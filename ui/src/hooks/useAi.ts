/** AI help: configured providers, job drafts, failure analysis of a run, a job's recurring failures. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import type { Analysis, AnalysisProvider, ProviderInfo } from "../api/types";
import { usePollInterval } from "../live/useConnection";
import { rereadAfterWrite } from "../api/reread";

const PROVIDERS_STALE_MS = 5 * 60_000; // the server's keys change only with a restart

export function useAiProviders() {
  return useQuery({
    queryKey: qk.aiProviders,
    staleTime: PROVIDERS_STALE_MS,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/ai/providers", { signal })),
  });
}

export interface GenerateInput {
  prompt: string;
  provider?: ProviderInfo["name"];
  timezone?: string;
}

/** A draft job from one sentence. Never saved: the answer only fills the editor. */
export function useGenerateJob() {
  return useMutation({
    mutationFn: (input: GenerateInput) => unwrap(api.POST("/api/v1/ai/generate", { body: input })),
  });
}

/** The analysis stored with a run, or null when it was never analysed. */
export function useRunAnalysis(runId: string, enabled: boolean) {
  return useQuery({
    queryKey: qk.analysis(runId),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/runs/{run_id}/analysis", { params: { path: { run_id: runId } }, signal })),
  });
}

export interface AnalyzeInput {
  provider?: AnalysisProvider;
  /** Ask again even when an answer is stored. */
  force: boolean;
}

export function useAnalyzeRun(runId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: AnalyzeInput) =>
      unwrap(api.POST("/api/v1/runs/{run_id}/analyze", { params: { path: { run_id: runId } }, body: input })),
    onSuccess: (analysis: Analysis) => {
      client.setQueryData(qk.analysis(runId), analysis);
      void rereadAfterWrite(client, qk.jobFailures(analysis.job_id));
    },
  });
}

/** The job's recent failures grouped by how they failed (no model is asked). */
export function useJobFailures(jobId: string) {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: qk.jobFailures(jobId),
    enabled: Boolean(jobId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/jobs/{job_id}/failures", { params: { path: { job_id: jobId } }, signal })),
    refetchInterval,
  });
}

/** The user's IANA timezone (the generator tells the model), or undefined if the browser has none. */
export function browserTimezone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

export const PROVIDER_LABELS: Record<AnalysisProvider, string> = {
  gemini: "Gemini",
  openai: "OpenAI",
  heuristic: "Built-in rules (no AI)",
};
