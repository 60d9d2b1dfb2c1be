/** One colour per run status, shared by tags, charts and legends. */
import type { RunStatus } from "../api/types";

export const STATUS_COLOR: Record<RunStatus, string> = {
  pending: "#bfbfbf",
  queued: "#13c2c2",
  running: "#1677ff",
  succeeded: "#52c41a",
  failed: "#f5222d",
  timed_out: "#fa8c16",
  cancelled: "#8c8c8c",
  lost: "#eb2f96",
  skipped: "#d3adf7",
};

export const STATUS_TAG: Record<RunStatus, string> = {
  pending: "default",
  queued: "cyan",
  running: "processing",
  succeeded: "success",
  failed: "error",
  timed_out: "orange",
  cancelled: "default",
  lost: "magenta",
  skipped: "purple",
};

export function statusLabel(status: RunStatus): string {
  return status.replace("_", " ");
}
