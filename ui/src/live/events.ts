/** Shapes of /events payloads, checked at runtime before they touch the cache. */
import type { Job, RunSummary, Worker } from "../api/types";

export interface RunEvent {
  type: "run";
  run: RunSummary;
}
export interface JobEvent {
  type: "job";
  job_id: string;
  deleted: boolean;
  job?: Job | null;
}
export interface WorkerEvent {
  type: "worker";
  worker: Worker;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasStrings(value: unknown, ...keys: string[]): value is Record<string, unknown> {
  return isRecord(value) && keys.every((k) => typeof value[k] === "string");
}

export function asRunEvent(data: unknown): RunEvent | null {
  if (!isRecord(data) || !hasStrings(data.run, "id", "job_id", "status", "created_at")) return null;
  return data as unknown as RunEvent;
}

export function asJobEvent(data: unknown): JobEvent | null {
  if (!hasStrings(data, "job_id")) return null;
  if (data.job !== undefined && data.job !== null && !hasStrings(data.job, "id", "name")) return null;
  return data as unknown as JobEvent;
}

export function asWorkerEvent(data: unknown): WorkerEvent | null {
  if (!isRecord(data) || !hasStrings(data.worker, "id", "status")) return null;
  return data as unknown as WorkerEvent;
}
