/**
 * Alert rules as form rows and back (pure). A rule's options appear in the JSON only when set, so
 * the spec stays minimal; fields the form does not know are kept from the rule at the same place.
 */
import type { NotifyRule, RuleEvent } from "../api/types";

export const RULE_EVENTS: readonly { value: RuleEvent; label: string; hint: string }[] = [
  { value: "failed", label: "Failed", hint: "a run failed (each attempt)" },
  { value: "timed_out", label: "Timed out", hint: "a run hit its timeout" },
  { value: "lost", label: "Lost", hint: "its worker died" },
  { value: "retries_exhausted", label: "Retries exhausted", hint: "the last allowed attempt failed" },
  { value: "recovered", label: "Recovered", hint: "first success after alerted failures" },
  { value: "succeeded", label: "Succeeded", hint: "every success (noisy)" },
  { value: "missed", label: "Missed slot", hint: "a schedule slot got no run" },
  { value: "not_started", label: "Not started", hint: "no start N s after its slot" },
  { value: "running_too_long", label: "Running too long", hint: "over a limit or a multiple of the median" },
  { value: "too_fast", label: "Too fast", hint: "a success quicker than a limit" },
];

export interface RuleRow {
  channel: string;
  on: RuleEvent[];
  afterFailures: number | null;
  realertSeconds: number | null;
  notStartedSeconds: number | null;
  longerThanSeconds: number | null;
  longerThanMedian: number | null;
  shorterThanSeconds: number | null;
}

const OPTIONS = [
  ["afterFailures", "after_failures"],
  ["realertSeconds", "realert_seconds"],
  ["notStartedSeconds", "not_started_seconds"],
  ["longerThanSeconds", "longer_than_seconds"],
  ["longerThanMedian", "longer_than_median"],
  ["shorterThanSeconds", "shorter_than_seconds"],
] as const;

const KNOWN = new Set(RULE_EVENTS.map((e) => e.value as string));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function emptyRule(channel = ""): RuleRow {
  return {
    channel,
    on: ["failed", "timed_out", "lost", "recovered"],
    afterFailures: null,
    realertSeconds: null,
    notStartedSeconds: null,
    longerThanSeconds: null,
    longerThanMedian: null,
    shorterThanSeconds: null,
  };
}

export function rulesToRows(rules: unknown): RuleRow[] {
  if (!Array.isArray(rules)) return [];
  return rules.filter(isRecord).map((rule) => {
    const row = emptyRule(typeof rule.channel === "string" ? rule.channel : "");
    row.on = Array.isArray(rule.on) ? (rule.on.filter((e): e is RuleEvent => typeof e === "string" && KNOWN.has(e))) : [];
    for (const [field, key] of OPTIONS) row[field] = num(rule[key]);
    return row;
  });
}

/** Rows back to rules; a row without a channel is dropped (still being filled in). */
export function rowsToRules(rows: readonly RuleRow[], previous: unknown): NotifyRule[] {
  const before = Array.isArray(previous) ? previous : [];
  const rules: NotifyRule[] = [];
  rows.forEach((row, index) => {
    if (!row.channel) return;
    const kept: unknown = before[index];
    const rule: Record<string, unknown> = { ...(isRecord(kept) ? kept : {}), channel: row.channel, on: row.on };
    for (const [field, key] of OPTIONS) {
      const value = row[field];
      if (value === null || value === undefined) delete rule[key];
      else rule[key] = value;
    }
    rules.push(rule as unknown as NotifyRule);
  });
  return rules;
}

export function eventLabel(event: string): string {
  return RULE_EVENTS.find((e) => e.value === event)?.label ?? (event === "test" ? "Test" : event);
}
