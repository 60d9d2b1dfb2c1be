/** AI helpers: job generation and failure analysis (501 until the backend ships them). */
import { useMutation } from "@tanstack/react-query";
import { postJson } from "../api/client";

export function useGenerateJob() {
  return useMutation({
    mutationFn: (input: { prompt: string; provider?: string }) => postJson("/api/v1/ai/generate", input),
  });
}

export function useAnalyzeRun() {
  return useMutation({
    mutationFn: (input: { runId: string; provider?: string }) =>
      postJson("/api/v1/runs/{run_id}/analyze", input.provider ? { provider: input.provider } : {}, {
        run_id: input.runId,
      }),
  });
}

/** The text of an AI answer: a string, or a `text`/`analysis`/`summary` field; else the JSON, as text. */
export function answerText(data: unknown): string {
  if (typeof data === "string") return data;
  if (typeof data === "object" && data !== null) {
    const record = data as Record<string, unknown>;
    for (const key of ["analysis", "text", "summary", "explanation"]) {
      const value = record[key];
      if (typeof value === "string") return value;
    }
  }
  return JSON.stringify(data, null, 2);
}
