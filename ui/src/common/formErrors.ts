/** A failed write's server errors placed at the form's fields (422 `loc`, or a 409 on a named field). */
import type { FormInstance } from "antd";
import { ApiError, errorLines, errorText } from "../api/errors";

export interface FormErrors<F extends string> {
  fields: Partial<Record<F, string[]>>;
  /** Errors no field of the form owns, as sentences. */
  general: string[];
}

/**
 * `fields`: the form's field names (the first part of a body `loc`). `conflictField`: where a 409
 * goes (e.g. "name" for "domain 'x' already exists").
 */
export function formErrors<F extends string>(error: unknown, fields: readonly F[], conflictField?: F): FormErrors<F> {
  const out: FormErrors<F> = { fields: {}, general: [] };
  if (!error) return out;
  if (error instanceof ApiError && error.status === 422 && Array.isArray(error.detail)) {
    const known = new Set<string>(fields);
    (error.detail as unknown[]).forEach((item, i) => {
      const line = errorLines([item])[0];
      const loc: unknown = typeof item === "object" && item !== null ? (item as { loc?: unknown }).loc : undefined;
      const path: readonly unknown[] = Array.isArray(loc) ? loc : [];
      const first = path[0] === "body" ? path[1] : undefined;
      const message = line?.message ?? `error ${i + 1}`;
      if (typeof first === "string" && known.has(first)) (out.fields[first as F] ??= []).push(message);
      else out.general.push(line?.field ? `${line.field}: ${message}` : message);
    });
    return out;
  }
  if (error instanceof ApiError && error.status === 409 && conflictField) {
    out.fields[conflictField] = [error.message];
    return out;
  }
  out.general.push(errorText(error));
  return out;
}

/** Show `errors` under the fields of an antd form (clears fields that have none now). */
export function showFieldErrors<F extends string>(form: FormInstance, fields: readonly F[], errors: FormErrors<F>): void {
  form.setFields(fields.map((name) => ({ name, errors: errors.fields[name] ?? [] })));
}
