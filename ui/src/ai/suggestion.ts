/**
 * A suggested change of a job, carried from a run's analysis to the job editor in the router's
 * state: the editor opens with the patch applied, shows the diff, and saves only on the user's click.
 */
import { mergePatch } from "./mergePatch";

export interface Suggestion {
  patch: Record<string, unknown>;
  runId: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The suggestion in a router location's state, if any (the state may hold anything). */
export function suggestionOf(state: unknown): Suggestion | null {
  if (!isRecord(state)) return null;
  const s = state.suggestion;
  if (!isRecord(s) || !isRecord(s.patch) || typeof s.runId !== "string") return null;
  return { patch: s.patch, runId: s.runId };
}

/** The spec with the suggestion applied (a new object). */
export function applySuggestion(spec: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged = mergePatch(spec, patch);
  return isRecord(merged) ? merged : spec;
}
