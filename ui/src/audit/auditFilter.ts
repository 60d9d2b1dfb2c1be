/** The audit page's filters, sent to the server (`GET /audit?actor=&action=&object_type=&...`). */
import type { AuditEntry } from "../api/types";

export type TimeRange = "any" | "1h" | "24h" | "7d" | "30d";

export const TIME_RANGES: { value: TimeRange; label: string; ms: number | null }[] = [
  { value: "any", label: "Any time", ms: null },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
];

/** The kinds of object the audit log names (the routes' tags, and what they create). */
export const OBJECT_TYPES = ["ai", "domain", "job", "run", "token", "worker"];

export interface AuditFilter {
  actor?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  range: TimeRange;
  /** The start of `range`, fixed when it was chosen (so the query, and its cache key, hold still). */
  since?: string;
}

export const NO_FILTER: AuditFilter = { range: "any" };

export function isFiltered(f: AuditFilter): boolean {
  return f.actor !== undefined || f.action !== undefined || f.objectType !== undefined || Boolean(f.objectId) || f.range !== "any";
}

/** `range` chosen at `now`: the filter with its `since`. */
export function withRange(f: AuditFilter, range: TimeRange, now = Date.now()): AuditFilter {
  const ms = TIME_RANGES.find((r) => r.value === range)?.ms ?? null;
  return { ...f, range, since: ms === null ? undefined : new Date(now - ms).toISOString() };
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  object_type?: string;
  object_id?: string;
  since?: string;
}

/** The query parameters of `f` (only those set: the server matches each exactly). */
export function auditQuery(f: AuditFilter): AuditQuery {
  const q: AuditQuery = {};
  if (f.actor) q.actor = f.actor;
  if (f.action) q.action = f.action;
  if (f.objectType) q.object_type = f.objectType;
  if (f.objectId?.trim()) q.object_id = f.objectId.trim();
  if (f.since) q.since = f.since;
  return q;
}

/** The distinct values of one field among `entries` plus `known`, sorted: a filter's choices. */
export function choices(entries: readonly AuditEntry[], field: "actor" | "action" | "object_type", known: readonly string[] = []): string[] {
  return [...new Set([...known, ...entries.map((e) => e[field])])].sort();
}
