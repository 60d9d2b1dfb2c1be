/** Failure categories in words (the server's `Category`). */
import type { FailureCategory } from "../api/types";

export const CATEGORY_LABELS: Record<FailureCategory, string> = {
  missing_command: "Missing command",
  permission: "Permission denied",
  missing_file: "Missing file",
  dependency: "Dependency / import",
  network: "Network / DNS",
  auth: "Authentication",
  out_of_memory: "Out of memory",
  timeout: "Timeout",
  disk: "Disk full",
  code_error: "Code error",
  infrastructure: "Infrastructure / lost worker",
  unknown: "Unknown",
};

export function categoryLabel(category: FailureCategory): string {
  return CATEGORY_LABELS[category] ?? category;
}
