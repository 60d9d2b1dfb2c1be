import { Tag } from "antd";
import type { Job } from "../api/types";

export type JobState = "active" | "paused" | "disabled";

export function jobState(job: Job): JobState {
  if (!job.enabled) return "disabled";
  if (job.paused) return "paused";
  return "active";
}

export function JobStateTag({ job }: { job: Job }) {
  const state = jobState(job);
  const color = state === "active" ? "green" : state === "paused" ? "gold" : "default";
  return (
    <Tag color={color} data-testid="job-state" data-state={state}>
      {state}
    </Tag>
  );
}
