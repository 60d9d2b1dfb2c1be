/** Client-side filters over the audit entries loaded so far (the API pages, it does not filter). */
import type { AuditEntry } from "../api/types";

export type TimeRange = "any" | "1h" | "24h" | "7d" | "30d";

export const TIME_RANGES: { value: TimeRange; label: string; ms: number | null }[] = [
  { value: "any", label: "Any time", ms: null },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
];

export interface AuditFilter {
  actor?: string;
  action?: string;
  objectType?: string;
  range: TimeRange;
}

export const NO_FILTER: AuditFilter = { range: "any" };

export function isFiltered(f: AuditFilter): boolean {
  return f.actor !== undefined || f.action !== undefined || f.objectType !== undefined || f.range !== "any";
}

export function filterAudit(entries: readonly AuditEntry[], f: AuditFilter, now = Date.now()): AuditEntry[] {
  const ms = TIME_RANGES.find((r) => r.value === f.range)?.ms ?? null;
  const since = ms === null ? null : now - ms;
  return entries.filter(
    (e) =>
      (f.actor === undefined || e.actor === f.actor) &&
      (f.action === undefined || e.action === f.action) &&
      (f.objectType === undefined || e.object_type === f.objectType) &&
      (since === null || Date.parse(e.at) >= since),
  );
}

/** The distinct values of one field among the loaded entries, sorted: the filter's choices. */
export function choices(entries: readonly AuditEntry[], field: "actor" | "action" | "object_type"): string[] {
  return [...new Set(entries.map((e) => e[field]))].sort();
}
