/** Maps server validation errors (`loc` paths) onto the job form's fields. */
import { cleanMessage, formatLoc } from "../../api/errors";
import type { JobFormValues, ScheduleKind } from "./jobForm";

export type FormField = keyof JobFormValues;

export interface MappedErrors {
  fields: Partial<Record<FormField, string[]>>;
  /** Errors with no form field: shown above the form and beside the JSON. */
  general: string[];
  /** Every error as "path: message", for the JSON view. */
  all: string[];
}

const DIRECT: Record<string, FormField> = {
  name: "name",
  description: "description",
  "executor.type": "executorType",
  "executor.script": "script",
  "executor.interpreter": "interpreter",
  executor: "script",
  "source.url": "gitUrl",
  "source.ref": "gitRef",
  "source.path": "gitPath",
  "schedule.cron": "cron",
  "schedule.timezone": "timezone",
  "schedule.interval_seconds": "intervalSeconds",
  "schedule.at": "at",
  env: "env",
  params: "params",
  timeout_seconds: "timeoutSeconds",
  "retries.max_attempts": "maxAttempts",
  "retries.backoff_seconds": "backoffSeconds",
  "concurrency.max_running": "maxRunning",
  "concurrency.overlap": "overlap",
  catchup: "catchup",
  queue: "queue",
  tags: "tags",
  enabled: "enabled",
  notify: "notify",
  domain_notify: "domainNotify",
};

const SCHEDULE_FIELD: Record<ScheduleKind, FormField> = {
  cron: "cron",
  interval: "intervalSeconds",
  at: "at",
  none: "scheduleKind",
};

const LOC_PREFIXES = new Set(["body", "query"]);

/** The form field for one `loc`, or null. `kind` decides where a whole-schedule error goes. */
export function fieldForLoc(loc: readonly (string | number)[], kind: ScheduleKind, msg = ""): FormField | null {
  const path = loc.filter((p, i) => !(i === 0 && typeof p === "string" && LOC_PREFIXES.has(p)));
  // Preview errors: ["query", "cron" | "timezone"].
  if (loc[0] === "query") {
    if (path[0] === "cron") return "cron";
    if (path[0] === "timezone") return "timezone";
  }
  const names = path.filter((p): p is string => typeof p === "string");
  if (names[0] === "schedule" && names.length === 1) {
    return /timezone/i.test(msg) ? "timezone" : SCHEDULE_FIELD[kind];
  }
  // Longest known prefix: ["env", "KEY"] → env, ["params", "day", "default"] → params.
  for (let n = Math.min(names.length, 2); n > 0; n--) {
    const field = DIRECT[names.slice(0, n).join(".")];
    if (field) return field;
  }
  return null;
}

export function mapErrors(errors: readonly unknown[], kind: ScheduleKind): MappedErrors {
  const out: MappedErrors = { fields: {}, general: [], all: [] };
  for (const error of errors) {
    if (typeof error !== "object" || error === null) continue;
    const e = error as { loc?: unknown; msg?: unknown };
    const loc = Array.isArray(e.loc) ? e.loc.filter((p): p is string | number => typeof p === "string" || typeof p === "number") : [];
    const msg = cleanMessage(typeof e.msg === "string" ? e.msg : "invalid");
    const path = formatLoc(loc);
    out.all.push(path ? `${path}: ${msg}` : msg);
    const field = fieldForLoc(loc, kind, msg);
    // Sub-paths (env key, param name, tag index) stay in the message so it says which one.
    const subPath = formatLoc(loc.slice(loc[0] === "body" ? 2 : 1));
    const text = field && ["env", "params", "tags"].includes(field) && subPath ? `${subPath}: ${msg}` : msg;
    if (field) (out.fields[field] ??= []).push(text);
    else out.general.push(path ? `${path}: ${msg}` : msg);
  }
  return out;
}

export function mergeErrors(a: MappedErrors, b: MappedErrors): MappedErrors {
  const fields: MappedErrors["fields"] = { ...a.fields };
  for (const [k, v] of Object.entries(b.fields) as [FormField, string[]][]) {
    fields[k] = [...(fields[k] ?? []), ...v];
  }
  return { fields, general: [...a.general, ...b.general], all: [...a.all, ...b.all] };
}

export const NO_ERRORS: MappedErrors = { fields: {}, general: [], all: [] };
