/** Short names for the generated OpenAPI schema types (src/api/schema.d.ts is generated: never edit it). */
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

/** The JSON body of a response object of the generated `paths`. */
type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;

export type Job = Schemas["Job"];
export type JobSpec = Schemas["JobSpec"];
/** A run with its spec, as `GET /runs/{id}` answers (taken from the path: robust to schema renames). */
export type Run = JsonOf<paths["/api/v1/runs/{run_id}"]["get"]["responses"][200]>;
export type RunSummary = Schemas["RunSummary"];
export type RunStatus = Schemas["RunStatus"];
export type Worker = Schemas["Worker"];
/** Payloads of `GET /events` (SSE), by event name; `LiveEvent` is any change (`type` tells which). */
export type LiveEvent = Schemas["LiveEvent"];
export type RunEvent = Schemas["RunEvent"];
export type JobEvent = Schemas["JobEvent"];
export type WorkerEvent = Schemas["WorkerStateEvent"];
export type LogEvent = Schemas["LogEvent"];
export type ResetEvent = Schemas["ResetEvent"];
export type ReadyEvent = Schemas["ReadyEvent"];
export type WorkerStatus = Schemas["WorkerStatus"];
export type Stats = Schemas["Stats"];
export type JobStat = Schemas["JobStat"];
export type HourBucket = Schemas["HourBucket"];
export type LogPage = Schemas["LogPage"];
export type Preview = Schemas["Preview"];
export type ValidationReport = Schemas["ValidationReport"];
export type FieldError = Schemas["ValidationError"];
export type ExecutorType = Schemas["ExecutorType"];
export type Overlap = Schemas["Overlap"];
export type Catchup = Schemas["Catchup"];
export type Param = Schemas["Param"];
export type JobPage = Schemas["Page_Job_"];
export type RunPage = Schemas["Page_RunSummary_"];
export type Me = Schemas["Me"];
export type Domain = Schemas["Domain"];
export type TokenInfo = Schemas["TokenInfo"];
export type TokenCreated = Schemas["TokenCreated"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["Page_AuditEntry_"];
export type Analysis = Schemas["Analysis"];
export type Evidence = Schemas["Evidence"];
export type FailureCategory = Schemas["Category"];
export type AnalysisProvider = Analysis["provider"];
export type GeneratedJob = Schemas["GeneratedJob"];
export type ProvidersAnswer = Schemas["ProvidersAnswer"];
export type ProviderInfo = Schemas["ProviderInfo"];
export type FailureGroup = Schemas["FailureGroup"];
export type FailureGroups = Schemas["FailureGroups"];
export type ChannelInfo = Schemas["ChannelInfo"];
export type WebhookChannelCreate = Schemas["WebhookChannelCreate"];
export type SlackChannelCreate = Schemas["SlackChannelCreate"];
export type EmailChannelCreate = Schemas["EmailChannelCreate"];
export type ChannelCreate = WebhookChannelCreate | SlackChannelCreate | EmailChannelCreate;
export type Delivery = Schemas["Delivery"];
export type DeliveryStatus = Schemas["DeliveryStatus"];
export type NotifyEvent = Schemas["NotifyEvent"];
export type NotifyRule = Schemas["NotifyRule"];
export type RuleEvent = NotifyRule["on"][number];
export type NotifySettings = Schemas["NotifySettings"];
export type NotifySettingsView = Schemas["NotifySettingsView"];
export type MaintenanceWindow = Schemas["MaintenanceWindow"];
export type Snooze = Schemas["Snooze"];

/** Every run status, in lifecycle order (the generated type is a union; this is its runtime list). */
export const RUN_STATUSES = [
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "lost",
  "skipped",
] as const satisfies readonly RunStatus[];

/** Compile-time check that RUN_STATUSES lists every member of the generated union. */
type AssertNever<T extends never> = T;
export type _AllStatusesListed = AssertNever<Exclude<RunStatus, (typeof RUN_STATUSES)[number]>>;

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "lost",
  "skipped",
]);

export const FAILURE_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>(["failed", "timed_out", "lost"]);

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
