/**
 * A cron expression in words ("At 02:00", "Every 5 minutes, Monday through Friday"), written by
 * cronstrue. Only the syntax the server accepts (src/hydra_jobs/schedule.py) is described: five
 * fields, or six with seconds first, the @daily-style macros, `*`, `?` in the day fields, numbers,
 * names, ranges, lists and steps. What cronstrue would also read but the server refuses (L, W, #,
 * @reboot, a year field, backwards ranges, steps longer than the field) is not described, so the
 * words never promise a schedule that cannot be saved.
 */
import cronstrue from "cronstrue";

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

interface FieldRule {
  min: number;
  max: number;
  names?: readonly string[];
  /** Day fields take `?` (alone) for "any". */
  day?: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const SECOND: FieldRule = { min: 0, max: 59 };
const FIVE_FIELDS: readonly FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31, day: true },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 7, names: WEEKDAYS, day: true },
];

function value(text: string, rule: FieldRule): number | null {
  if (/^\d{1,4}$/.test(text)) {
    const n = Number(text);
    return n >= rule.min && n <= rule.max ? n : null;
  }
  const named = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  return named === -1 ? null : rule.min + named;
}

/** The server's reading of one list item (schedule._parse_item): true when it takes it. */
function itemAccepted(item: string, rule: FieldRule): boolean {
  const [base = "", step, extra] = item.split("/");
  if (extra !== undefined) return false;
  if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1 && Number(step) <= rule.max - rule.min + 1)) return false;
  if (base === "*") return true;
  if (base === "?") return rule.day === true && step === undefined;
  const [first = "", last, more] = base.split("-");
  if (more !== undefined) return false;
  const from = value(first, rule);
  if (from === null) return false;
  if (last === undefined) return true;
  const to = value(last, rule);
  return to !== null && to >= from;
}

function fieldAccepted(text: string, rule: FieldRule): boolean {
  return text.split(",").every((item) => item !== "" && itemAccepted(item, rule));
}

/** The expression's fields when the server would accept its syntax, else null. */
function acceptedFields(expression: string): string[] | null {
  const trimmed = expression.trim();
  const expanded = trimmed.startsWith("@") ? MACROS[trimmed.toLowerCase()] : trimmed;
  if (!expanded) return null;
  const fields = expanded.split(/\s+/);
  const rules = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : fields.length === 5 ? FIVE_FIELDS : null;
  if (!rules || !fields.every((f, i) => fieldAccepted(f, rules[i] ?? SECOND))) return null;
  // "0-7" in day-of-week is every day (0 and 7 are both Sunday): cronstrue would say "Sunday
  // through Sunday".
  const last = fields.length - 1;
  fields[last] = (fields[last] ?? "").replace(/^(0|SUN)-7(?=$|\/)/i, "0-6");
  return fields;
}

/** The expression in words, or null when the server would not accept it. */
export function describeCron(expression: string): string | null {
  const fields = acceptedFields(expression);
  if (!fields) return null;
  try {
    return cronstrue.toString(fields.join(" "), { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    return null;
  }
}

/** The expression in words; one the server would not accept comes back as it was written. */
export function cronToWords(expression: string): string {
  return describeCron(expression) ?? expression;
}
