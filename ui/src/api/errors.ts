/** API errors in words: `{"detail": string | [{loc, msg, type}]}` becomes "field: message" text. */

const LOC_PREFIXES = new Set(["body", "query", "path", "header"]);

export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;

  constructor(status: number, detail: unknown, message?: string) {
    super(message ?? (formatDetail(detail) || describeStatus(status)));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

export function describeStatus(status: number): string {
  switch (status) {
    case 0:
      return "Cannot reach the Hydra Jobs server";
    case 401:
      return "Not signed in or the token was rejected";
    case 404:
      return "Not found";
    case 409:
      return "Conflict with the current state";
    case 422:
      return "Invalid input";
    case 503:
      return "The server cannot do this now (not configured or unavailable)";
    default:
      return `The server answered HTTP ${status}`;
  }
}

/** "executor.script" for ["body", "executor", "script"]; list indexes as "tags[0]". */
export function formatLoc(loc: readonly unknown[]): string {
  const parts = loc.filter((p, i) => !(i === 0 && typeof p === "string" && LOC_PREFIXES.has(p)));
  let out = "";
  for (const part of parts) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Pydantic prefixes model-validator messages with "Value error, ": drop it for people. */
export function cleanMessage(msg: string): string {
  return msg.replace(/^(Value|Assertion) error, /, "");
}

export interface ErrorLine {
  field: string;
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The errors of a 422 detail list (or a validation report's `errors`) as field/message pairs. */
export function errorLines(detail: unknown): ErrorLine[] {
  if (!Array.isArray(detail)) return [];
  return detail.map((item: unknown) => {
    if (!isRecord(item)) return { field: "", message: String(item) };
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const msg = typeof item.msg === "string" ? cleanMessage(item.msg) : JSON.stringify(item);
    return { field: formatLoc(loc), message: msg };
  });
}

export function formatDetail(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return errorLines(detail)
      .map((l) => (l.field ? `${l.field}: ${l.message}` : l.message))
      .join("; ");
  }
  if (isRecord(detail) && "detail" in detail) return formatDetail(detail.detail);
  if (detail === undefined || detail === null) return "";
  return JSON.stringify(detail);
}

/** Any thrown value as one sentence for a message or an alert. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
