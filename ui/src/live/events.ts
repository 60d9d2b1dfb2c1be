/**
 * Runtime guards for /events payloads, checked before they touch the cache: the stream is input
 * like any other. Their types are generated from the server's schema (src/api/types.ts).
 */
import type { JobEvent, RunEvent, WorkerEvent } from "../api/types";

export type { JobEvent, LiveEvent, LogEvent, RunEvent, WorkerEvent } from "../api/types";

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
