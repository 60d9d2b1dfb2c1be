/** Form.Item props that show server errors for a field, or its hint when it has none. */
import type { ReactNode } from "react";
import type { FormField, MappedErrors } from "../fieldErrors";

export type FieldStatus = (field: FormField, extra?: ReactNode) => { validateStatus?: "error"; help?: ReactNode; extra?: ReactNode };

export function fieldStatus(errors: MappedErrors): FieldStatus {
  return (field, extra) => {
    const messages = errors.fields[field];
    return messages && messages.length > 0
      ? { validateStatus: "error", help: <span data-testid={`error-${field}`}>{messages.join("; ")}</span> }
      : { extra };
  };
}
