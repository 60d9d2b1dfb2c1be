/**
 * Names for the ids in audit entries, from what the UI already has: jobs (the jobs list and any job
 * in the query cache), the domain's tokens (admin only), and the name a create recorded.
 */
import type { AuditEntry } from "../api/types";

/** `${object_type}:${object_id}` → name. */
export type NameIndex = ReadonlyMap<string, string>;

interface Named {
  id: string;
  name: string;
}

export function nameIndex({ jobs = [], tokens = [] }: { jobs?: readonly Named[]; tokens?: readonly Named[] }): NameIndex {
  const names = new Map<string, string>();
  for (const j of jobs) names.set(`job:${j.id}`, j.name);
  for (const t of tokens) names.set(`token:${t.id}`, t.name);
  return names;
}

/** The entry's object by name, or null when the UI cannot tell (then the id is all there is). */
export function objectName(entry: AuditEntry, names: NameIndex): string | null {
  if (!entry.object_id) return null;
  const known = names.get(`${entry.object_type}:${entry.object_id}`);
  if (known) return known;
  const recorded = entry.details?.name;
  return typeof recorded === "string" && recorded !== "" && recorded !== entry.object_id ? recorded : null;
}
