/**
 * The job editor's two views of one draft: form values (the common fields) and the full JSON spec.
 * `specToForm` reads any JSON defensively; `applyForm` writes the form back onto the draft,
 * keeping every field the form does not show (retention, jitter, unknown keys).
 */
import type { Catchup, ExecutorType, Overlap } from "../../api/types";
import { rowsToRules, rulesToRows, type RuleRow } from "../../notify/rules";

export type ScheduleKind = "none" | "cron" | "interval" | "at";

/** Where the script runs: on its own ("inline") or in a checkout of a git repository. */
export type SourceKind = "inline" | "git";

export interface EnvRow {
  key: string;
  value: string;
}

export interface ParamRow {
  name: string;
  default: string;
  description: string;
  required: boolean;
}

export interface JobFormValues {
  name: string;
  description: string;
  executorType: ExecutorType;
  script: string;
  interpreter: string;
  sourceKind: SourceKind;
  /** `source.url`, `source.ref`, `source.path` ("" when absent). */
  gitUrl: string;
  gitRef: string;
  gitPath: string;
  scheduleKind: ScheduleKind;
  cron: string;
  timezone: string;
  intervalSeconds: number | null;
  at: string;
  env: EnvRow[];
  params: ParamRow[];
  timeoutSeconds: number | null;
  maxAttempts: number;
  backoffSeconds: number | null;
  maxRunning: number | null;
  overlap: Overlap;
  catchup: Catchup;
  queue: string;
  tags: string[];
  enabled: boolean;
  notify: RuleRow[];
  domainNotify: boolean;
}

/** A job spec as edited: a JSON object that the server will validate. */
export type SpecDraft = Record<string, unknown>;

export const EXECUTOR_TYPES: readonly ExecutorType[] = ["shell", "python", "batch"];
export const OVERLAPS: readonly Overlap[] = ["allow", "skip", "queue", "cancel_previous"];
export const CATCHUPS: readonly Catchup[] = ["none", "latest", "all"];

export const NEW_JOB: SpecDraft = {
  name: "",
  executor: { type: "shell", script: "" },
  enabled: true,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

function obj(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function scheduleKindOf(schedule: unknown): ScheduleKind {
  if (!isRecord(schedule)) return "none";
  if (typeof schedule.cron === "string") return "cron";
  if (schedule.interval_seconds !== undefined && schedule.interval_seconds !== null) return "interval";
  if (typeof schedule.at === "string") return "at";
  return "none";
}

export function specToForm(draft: unknown): JobFormValues {
  const spec = obj(draft);
  const executor = obj(spec.executor);
  const source = obj(spec.source);
  const schedule = obj(spec.schedule);
  const retries = obj(spec.retries);
  const concurrency = obj(spec.concurrency);
  return {
    name: str(spec.name),
    description: str(spec.description),
    executorType: oneOf(executor.type, EXECUTOR_TYPES, "shell"),
    script: str(executor.script),
    interpreter: str(executor.interpreter),
    sourceKind: spec.source === undefined || spec.source === null ? "inline" : "git",
    gitUrl: str(source.url),
    gitRef: str(source.ref),
    gitPath: str(source.path),
    scheduleKind: scheduleKindOf(spec.schedule),
    cron: str(schedule.cron),
    timezone: str(schedule.timezone),
    intervalSeconds: num(schedule.interval_seconds),
    at: str(schedule.at),
    env: Object.entries(obj(spec.env)).map(([key, value]) => ({ key, value: str(value) })),
    params: Object.entries(obj(spec.params)).map(([name, p]) => {
      const param = obj(p);
      return {
        name,
        default: str(param.default),
        description: str(param.description),
        required: param.required === true,
      };
    }),
    timeoutSeconds: num(spec.timeout_seconds),
    maxAttempts: num(retries.max_attempts) ?? 1,
    backoffSeconds: num(retries.backoff_seconds),
    maxRunning: num(concurrency.max_running),
    overlap: oneOf(concurrency.overlap, OVERLAPS, "allow"),
    catchup: oneOf(spec.catchup, CATCHUPS, "none"),
    queue: str(spec.queue) || "default",
    tags: Array.isArray(spec.tags) ? spec.tags.filter((t): t is string => typeof t === "string") : [],
    enabled: spec.enabled !== false,
    notify: rulesToRows(spec.notify),
    domainNotify: spec.domain_notify !== false,
  };
}

/** Set `key` to `value`, or remove it when the value is "unset" (so the JSON stays minimal). */
function put(target: Record<string, unknown>, key: string, value: unknown, unset: boolean): void {
  if (unset) delete target[key];
  else target[key] = value;
}

function buildSchedule(values: JobFormValues, previous: Record<string, unknown>): Record<string, unknown> | null {
  switch (values.scheduleKind) {
    case "cron": {
      const s: Record<string, unknown> = { cron: values.cron };
      if (values.timezone) s.timezone = values.timezone;
      return s;
    }
    case "interval":
      return { interval_seconds: values.intervalSeconds ?? previous.interval_seconds ?? null };
    case "at": {
      const s: Record<string, unknown> = { at: values.at };
      if (values.timezone) s.timezone = values.timezone;
      return s;
    }
    default:
      return null;
  }
}

/** The draft with the form's fields written onto it. Returns a new object; `draft` is untouched. */
export function applyForm(draft: unknown, values: JobFormValues): SpecDraft {
  const spec: SpecDraft = { ...obj(draft) };
  spec.name = values.name;
  put(spec, "description", values.description, values.description === "");

  const executor: Record<string, unknown> = { ...obj(spec.executor), type: values.executorType, script: values.script };
  put(executor, "interpreter", values.interpreter, values.interpreter === "" || values.executorType !== "python");
  spec.executor = executor;

  if (values.sourceKind === "git") {
    // Unknown keys stay, so the server can name them; an empty ref or path means "absent".
    const source: Record<string, unknown> = { ...obj(spec.source), url: values.gitUrl };
    put(source, "ref", values.gitRef, values.gitRef === "");
    put(source, "path", values.gitPath, values.gitPath === "");
    spec.source = source;
  } else {
    delete spec.source;
  }

  const schedule = buildSchedule(values, obj(spec.schedule));
  put(spec, "schedule", schedule, schedule === null);

  const env: Record<string, string> = {};
  for (const row of values.env) if (row.key) env[row.key] = row.value;
  put(spec, "env", env, Object.keys(env).length === 0);

  const params: Record<string, unknown> = {};
  for (const row of values.params) {
    if (!row.name) continue;
    const p: Record<string, unknown> = { ...obj(obj(spec.params)[row.name]) };
    put(p, "default", row.default, row.default === "");
    put(p, "description", row.description, row.description === "");
    put(p, "required", true, !row.required);
    params[row.name] = p;
  }
  put(spec, "params", params, Object.keys(params).length === 0);

  put(spec, "timeout_seconds", values.timeoutSeconds, values.timeoutSeconds === null);

  const retries: Record<string, unknown> = { ...obj(spec.retries), max_attempts: values.maxAttempts };
  put(retries, "backoff_seconds", values.backoffSeconds, values.backoffSeconds === null);
  const defaultRetries = Object.keys(retries).length === 1 && values.maxAttempts === 1;
  put(spec, "retries", retries, defaultRetries);

  const concurrency: Record<string, unknown> = { ...obj(spec.concurrency), overlap: values.overlap };
  put(concurrency, "max_running", values.maxRunning, values.maxRunning === null);
  const defaultConcurrency = Object.keys(concurrency).length === 1 && values.overlap === "allow";
  put(spec, "concurrency", concurrency, defaultConcurrency);

  put(spec, "catchup", values.catchup, values.catchup === "none" && spec.catchup === undefined);
  put(spec, "queue", values.queue, (values.queue === "" || values.queue === "default") && spec.queue === undefined);
  put(spec, "tags", values.tags, values.tags.length === 0);
  spec.enabled = values.enabled;
  const notify = rowsToRules(values.notify ?? [], spec.notify);
  put(spec, "notify", notify, notify.length === 0);
  // A form value is missing until the field mounts: only an explicit "off" is written.
  const optedOut = (values.domainNotify as boolean | undefined) === false;
  put(spec, "domain_notify", false, !optedOut);
  return spec;
}

/** Parse the JSON editor's text: an object, or the reason it is not one. */
export function parseSpecText(text: string): { spec: SpecDraft } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  if (!isRecord(value)) return { error: "A job spec is a JSON object: { … }" };
  return { spec: value };
}

export function specText(spec: SpecDraft): string {
  return JSON.stringify(spec, null, 2);
}

/** Fields of a saved job that are not part of its spec (PUT takes the spec only). */
const JOB_ONLY_FIELDS = [
  "id",
  "domain",
  "paused",
  "created_at",
  "updated_at",
  "next_fire_at",
  "last_run_id",
  "last_run_status",
  "last_run_at",
];

export function jobToSpec(job: object): SpecDraft {
  const spec: SpecDraft = { ...job };
  for (const key of JOB_ONLY_FIELDS) delete spec[key];
  // Drop nulls the server filled in for absent optional fields, to keep the JSON readable.
  for (const [key, value] of Object.entries(spec)) if (value === null) delete spec[key];
  for (const key of ["executor", "source", "schedule"]) {
    const part = spec[key];
    if (isRecord(part)) spec[key] = Object.fromEntries(Object.entries(part).filter(([, v]) => v !== null));
  }
  return spec;
}
