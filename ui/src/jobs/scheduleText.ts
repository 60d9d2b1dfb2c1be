/** A job's schedule in words, for tables and headers. */
import type { JobSpec } from "../api/types";
import { cronToWords } from "../cron/cronToWords";
import { formatDateTime, formatDuration } from "../common/format";

export function intervalWords(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? "Every day" : `Every ${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? "Every hour" : `Every ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "Every minute" : `Every ${seconds / 60} minutes`;
  return seconds === 1 ? "Every second" : seconds < 60 ? `Every ${seconds} seconds` : `Every ${formatDuration(seconds * 1000)}`;
}

export function scheduleWords(schedule: JobSpec["schedule"]): string {
  if (!schedule) return "Manual only";
  if (schedule.cron) {
    const tz = schedule.timezone && schedule.timezone !== "UTC" ? ` (${schedule.timezone})` : " (UTC)";
    return cronToWords(schedule.cron) + tz;
  }
  if (schedule.interval_seconds) return intervalWords(schedule.interval_seconds);
  if (schedule.at) return `Once, ${formatDateTime(schedule.at)}`;
  return "Manual only";
}
