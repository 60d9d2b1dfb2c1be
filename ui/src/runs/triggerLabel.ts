/** How a run came to be, in words: a retry by hand is a `manual` run with `retry_of` set, `retry` is the job's retry policy. */
import type { RunSummary } from "../api/types";

export function triggerLabel(run: Pick<RunSummary, "trigger" | "retry_of">): string {
  if (run.trigger === "retry") return "retry (automatic)";
  if (run.retry_of) return run.trigger === "api" ? "retry (by the API)" : "retry (by hand)";
  return run.trigger;
}
