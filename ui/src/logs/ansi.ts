/**
 * ANSI SGR parsing for job output: text becomes styled segments (never HTML). Colours, bold, dim,
 * italic, underline, inverse and strike are kept; every other escape and control code is dropped.
 * A carriage return starts the line over (progress bars show their last state).
 */

export type AnsiColor = { kind: "index"; n: number } | { kind: "rgb"; r: number; g: number; b: number };

export interface SgrState {
  fg: AnsiColor | null;
  bg: AnsiColor | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export interface Segment {
  text: string;
  state: SgrState;
}

export const PLAIN: SgrState = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
});

// CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL | ESC \), other ESC sequences,
// and C0/C1 control characters except tab and carriage return.
// eslint-disable-next-line no-control-regex
const TOKEN = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\r|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\x80-\x9f]/g;
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/;

/** True when the line has nothing to parse: its display text is itself. */
export function isPlain(line: string): boolean {
  return !SPECIAL.test(line);
}

function clampByte(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(255, Math.trunc(n)));
}

/** Reads an extended colour (38/48 ;5;n or ;2;r;g;b) starting after the 38/48; returns [colour, codes used]. */
function extendedColor(codes: number[], at: number): [AnsiColor | null, number] {
  const mode = codes[at];
  if (mode === 5) return [{ kind: "index", n: clampByte(codes[at + 1]) }, 2];
  if (mode === 2) {
    return [{ kind: "rgb", r: clampByte(codes[at + 1]), g: clampByte(codes[at + 2]), b: clampByte(codes[at + 3]) }, 4];
  }
  return [null, 0];
}

/** Applies one SGR parameter list ("1;31", "38;5;208", "" = reset) to a state. */
export function applySgr(state: SgrState, params: string): SgrState {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  let s: SgrState = { ...state };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] ?? 0;
    if (c === 0) s = { ...PLAIN };
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 9) s.strike = true;
    else if (c === 21 || c === 22) {
      s.bold = false;
      s.dim = false;
    } else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c === 27) s.inverse = false;
    else if (c === 29) s.strike = false;
    else if (c >= 30 && c <= 37) s.fg = { kind: "index", n: c - 30 };
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = { kind: "index", n: c - 40 };
    else if (c === 49) s.bg = null;
    else if (c >= 90 && c <= 97) s.fg = { kind: "index", n: c - 90 + 8 };
    else if (c >= 100 && c <= 107) s.bg = { kind: "index", n: c - 100 + 8 };
    else if (c === 38 || c === 48) {
      const [color, used] = extendedColor(codes, i + 1);
      if (color) {
        if (c === 38) s.fg = color;
        else s.bg = color;
      }
      i += used;
    }
  }
  return s;
}

function sameState(a: SgrState, b: SgrState): boolean {
  return (
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    a.strike === b.strike &&
    JSON.stringify(a.fg) === JSON.stringify(b.fg) &&
    JSON.stringify(a.bg) === JSON.stringify(b.bg)
  );
}

export interface ParsedLine {
  segments: Segment[];
  /** The style in effect after the line: the next line starts with it. */
  end: SgrState;
  /** What is shown: the segments' text joined. */
  text: string;
}

/** Parses one line (no "\n") that starts in style `start`. */
export function parseAnsiLine(line: string, start: SgrState = PLAIN): ParsedLine {
  if (isPlain(line)) {
    return { segments: line ? [{ text: line, state: start }] : [], end: start, text: line };
  }
  let segments: Segment[] = [];
  let state = start;
  let last = 0;
  const push = (text: string) => {
    if (!text) return;
    const prev = segments[segments.length - 1];
    if (prev && sameState(prev.state, state)) prev.text += text;
    else segments.push({ text, state });
  };
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(line); m !== null; m = TOKEN.exec(line)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === "\r") {
      // Only a carriage return with text after it rewrites the line ("\r" before "\n" is CRLF).
      if (last < line.length) segments = [];
    } else if (m[2] === "m") {
      state = applySgr(state, m[1] ?? "");
    }
  }
  push(line.slice(last));
  return { segments, end: state, text: segments.map((s) => s.text).join("") };
}

/** The display text of a whole log (escapes removed, carriage returns applied per line). */
export function stripAnsi(text: string): string {
  return text
    .split("\n")
    .map((line) => parseAnsiLine(line).text)
    .join("\n");
}
