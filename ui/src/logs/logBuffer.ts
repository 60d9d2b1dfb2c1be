/**
 * A run's output as lines: append chunks as they stream in (a line may span chunks), keep the
 * style each line starts with (colours carry across lines), and the display text for search.
 */
import { parseAnsiLine, PLAIN, type ParsedLine, type SgrState } from "./ansi";

export interface LogLine {
  raw: string;
  /** The style in effect at the start of the line. */
  start: SgrState;
  /** The display text (escapes removed), for search and download. */
  text: string;
}

export class LogBuffer {
  private readonly complete: LogLine[] = [];
  private partial = "";
  private partialStart: SgrState = PLAIN;
  private chars = 0;

  /** Characters appended so far (the stream offset they came from is the caller's business). */
  get size(): number {
    return this.chars;
  }

  /** Lines, counting an unterminated last line. */
  get lineCount(): number {
    return this.complete.length + (this.partial ? 1 : 0);
  }

  append(chunk: string): void {
    if (!chunk) return;
    this.chars += chunk.length;
    const pieces = chunk.split("\n");
    const last = pieces.pop() ?? "";
    for (const piece of pieces) {
      const raw = this.partial + piece;
      const start = this.partialStart;
      const parsed = parseAnsiLine(raw, start);
      this.complete.push({ raw, start, text: parsed.text });
      this.partial = "";
      this.partialStart = parsed.end;
    }
    this.partial += last;
  }

  line(index: number): LogLine | null {
    if (index < this.complete.length) return this.complete[index] ?? null;
    if (index === this.complete.length && this.partial) {
      return { raw: this.partial, start: this.partialStart, text: parseAnsiLine(this.partial, this.partialStart).text };
    }
    return null;
  }

  /** Segments to render for one line. */
  parsed(index: number): ParsedLine | null {
    const line = this.line(index);
    return line ? parseAnsiLine(line.raw, line.start) : null;
  }

  /** Indexes of the lines whose display text contains `query` (case-insensitive). */
  search(query: string): number[] {
    if (!query) return [];
    const needle = query.toLowerCase();
    const hits: number[] = [];
    for (let i = 0; i < this.lineCount; i++) {
      if (this.line(i)?.text.toLowerCase().includes(needle)) hits.push(i);
    }
    return hits;
  }

  /** The whole log as display text, for download. */
  plainText(): string {
    const lines = this.complete.map((l) => l.text);
    let out = lines.join("\n");
    if (this.complete.length) out += "\n";
    const tail = this.line(this.complete.length);
    if (tail) out += tail.text;
    return out;
  }
}

/** Splits display text around case-insensitive matches of `query`: [text, isMatch] pairs. */
export function splitMatches(text: string, query: string): Array<[string, boolean]> {
  if (!query) return [[text, false]];
  const out: Array<[string, boolean]> = [];
  const haystack = text.toLowerCase();
  const needle = query.toLowerCase();
  let at = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) {
    if (i > at) out.push([text.slice(at, i), false]);
    out.push([text.slice(i, i + needle.length), true]);
    at = i + needle.length;
  }
  if (at < text.length) out.push([text.slice(at), false]);
  return out;
}
