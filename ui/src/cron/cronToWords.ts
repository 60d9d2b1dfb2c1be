/**
 * A cron expression in words: "At 02:00 every day", "Every 5 minutes on Monday through Friday".
 * Five fields (minute hour day-of-month month day-of-week) or six with seconds first, plus the
 * @daily-style macros. Anything it does not understand comes back as the expression itself.
 */

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

type Part =
  | { kind: "value"; v: number }
  | { kind: "range"; from: number; to: number; step: number }
  | { kind: "step"; from: number; step: number }; // "*/n" (from = min) or "a/n"

interface Field {
  any: boolean;
  parts: Part[];
}

interface Spec {
  min: number;
  max: number;
  names?: string[];
  /** Day-of-week: 7 is Sunday too. */
  sevenIsZero?: boolean;
}

const SPECS = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dom: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: MONTH_NAMES },
  dow: { min: 0, max: 7, names: DAY_NAMES, sevenIsZero: true },
} satisfies Record<string, Spec>;

class Unsupported extends Error {}

function parseNumber(text: string, spec: Spec): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  let n: number;
  if (named !== -1) n = named + (spec === SPECS.month ? 1 : 0);
  else if (/^\d+$/.test(text)) n = Number(text);
  else throw new Unsupported(text);
  if (n < spec.min || n > spec.max) throw new Unsupported(text);
  return spec.sevenIsZero && n === 7 ? 0 : n;
}

function parseField(text: string, spec: Spec): Field {
  if (text === "*" || text === "?") return { any: true, parts: [] };
  const parts = text.split(",").map((item): Part => {
    const [base = "", stepText] = item.split("/");
    const step = stepText === undefined ? null : Number(stepText);
    if (step !== null && (!Number.isInteger(step) || step < 1)) throw new Unsupported(item);
    if (base === "*") {
      if (step === null) throw new Unsupported(item);
      return { kind: "step", from: spec.min, step };
    }
    if (base.includes("-")) {
      const [a = "", b = ""] = base.split("-");
      const from = parseNumber(a, spec);
      const rawTo = parseNumber(b, spec);
      const to = spec.sevenIsZero && rawTo === 0 && b !== "0" ? 7 : rawTo;
      if (to < from) throw new Unsupported(item);
      return { kind: "range", from, to, step: step ?? 1 };
    }
    const v = parseNumber(base, spec);
    return step === null ? { kind: "value", v } : { kind: "step", from: v, step };
  });
  return { any: false, parts };
}

function single(field: Field): number | null {
  const [only, ...rest] = field.parts;
  return !field.any && rest.length === 0 && only?.kind === "value" ? only.v : null;
}

/** "*\/n" as a whole field. */
function everyN(field: Field, spec: Spec): number | null {
  const [only, ...rest] = field.parts;
  return !field.any && rest.length === 0 && only?.kind === "step" && only.from === spec.min ? only.step : null;
}

function values(field: Field): number[] | null {
  if (field.any || !field.parts.every((p) => p.kind === "value")) return null;
  return field.parts.map((p) => (p.kind === "value" ? p.v : 0));
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function joinWords(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] ?? ""}`;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${s}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${n} ${word}s`;
}

/** A generic list: "1, 15 and 20-25", with names for months and days. */
function describeParts(field: Field, name: (n: number) => string, unit: string): string {
  return joinWords(
    field.parts.map((p) => {
      if (p.kind === "value") return name(p.v);
      if (p.kind === "range") {
        const r = `${name(p.from)} through ${name(p.to)}`;
        return p.step === 1 ? r : `every ${ordinal(p.step)} ${unit} from ${r}`;
      }
      return p.from === 0 || (unit === "day" && p.from === 1) || (unit === "month" && p.from === 1)
        ? `every ${ordinal(p.step)} ${unit}`
        : `every ${ordinal(p.step)} ${unit} from ${name(p.from)}`;
    }),
  );
}

function timePhrase(sec: Field | null, minute: Field, hour: Field): { text: string; specificTime: boolean } {
  const s = sec ? single(sec) : 0;
  const secPrefix = (() => {
    if (!sec || s === 0) return "";
    if (sec.any) return "Every second";
    const n = everyN(sec, SPECS.second);
    if (n) return `Every ${plural(n, "second")}`;
    return `At second ${describeParts(sec, String, "second")}`;
  })();
  const m = single(minute);
  const h = single(hour);
  const hours = values(hour);
  const secSuffix = s !== null && s !== 0 ? `:${pad(s)}` : "";

  if (s !== null && m !== null && hours && hours.length > 0) {
    const times = hours.map((hh) => `${pad(hh)}:${pad(m)}${secSuffix}`);
    return { text: `At ${joinWords(times)}`, specificTime: true };
  }
  if (secPrefix) {
    if (minute.any && hour.any) return { text: secPrefix, specificTime: false };
    const rest = timePhrase(null, minute, hour);
    return { text: `${secPrefix}, ${lowerFirst(rest.text)}`, specificTime: false };
  }
  if (minute.any && hour.any) return { text: "Every minute", specificTime: false };
  const mStep = everyN(minute, SPECS.minute);
  const hourText = hour.any ? "" : hourRange(hour);
  if (minute.any) return { text: `Every minute${hourText}`, specificTime: false };
  if (mStep) return { text: `Every ${plural(mStep, "minute")}${hourText}`, specificTime: false };
  const minuteText = m !== null ? `minute ${m}` : `minutes ${describeParts(minute, String, "minute")}`;
  if (hour.any) {
    return { text: m === 0 ? "Every hour" : `At ${minuteText} past every hour`, specificTime: false };
  }
  const hStep = everyN(hour, SPECS.hour);
  if (hStep) return { text: `At ${minuteText} past every ${plural(hStep, "hour")}`, specificTime: false };
  if (h !== null) return { text: `At ${minuteText} past hour ${pad(h)}`, specificTime: false };
  return { text: `At ${minuteText} past every hour${hourText}`, specificTime: false };
}

function hourRange(hour: Field): string {
  const [only, ...rest] = hour.parts;
  if (rest.length === 0 && only?.kind === "range" && only.step === 1) {
    return ` from ${pad(only.from)}:00 through ${pad(only.to)}:59`;
  }
  const hStep = everyN(hour, SPECS.hour);
  if (hStep) return `, every ${plural(hStep, "hour")}`;
  const h = single(hour);
  if (h !== null) return ` from ${pad(h)}:00 through ${pad(h)}:59`;
  return ` during hours ${describeParts(hour, pad, "hour")}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function dayPhrase(dom: Field, dow: Field): string {
  const domText = dom.any
    ? ""
    : everyN(dom, SPECS.dom)
      ? `every ${plural(everyN(dom, SPECS.dom) ?? 1, "day")}`
      : `on ${single(dom) !== null ? "day" : "days"} ${describeParts(dom, String, "day")} of the month`;
  const dowText = dow.any ? "" : `on ${describeParts(dow, (n) => DAYS[n % 7] ?? String(n), "day")}`;
  if (domText && dowText) return `${domText} or ${dowText}`;
  return domText || dowText;
}

function monthPhrase(month: Field): string {
  if (month.any) return "";
  const n = everyN(month, SPECS.month);
  if (n) return `every ${plural(n, "month")}`;
  return `in ${describeParts(month, (v) => MONTHS[v - 1] ?? String(v), "month")}`;
}

export function cronToWords(expression: string): string {
  const trimmed = expression.trim();
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return expression;
  try {
    const secText = fields.length === 6 ? (fields.shift() ?? null) : null;
    const [minText = "", hourText = "", domText = "", monthText = "", dowText = ""] = fields;
    const sec = secText === null ? null : parseField(secText, SPECS.second);
    const minute = parseField(minText, SPECS.minute);
    const hour = parseField(hourText, SPECS.hour);
    const dom = parseField(domText, SPECS.dom);
    const month = parseField(monthText, SPECS.month);
    const dow = parseField(dowText, SPECS.dow);

    const time = timePhrase(sec, minute, hour);
    const days = dayPhrase(dom, dow);
    const months = monthPhrase(month);
    const words = [time.text];
    if (days) words.push(days);
    else if (time.specificTime && !months) words.push("every day");
    if (months) words.push(months);
    return words.join(" ");
  } catch (error) {
    if (error instanceof Unsupported) return expression;
    throw error;
  }
}
