/**
 * Incremental text/event-stream parser (the WHATWG algorithm): feed it decoded text in chunks of
 * any size, get back the events completed so far. Comments (keepalives) are counted, not emitted.
 */

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id in effect when this event was dispatched (ids persist across events). */
  id: string | null;
}

export class SseParser {
  private buffer = "";
  private pendingCR = false;
  private data: string[] = [];
  private eventName = "";
  private hasData = false;
  private lastId: string | null = null;
  /** Keepalive comment lines seen; a sign of life without an event. */
  comments = 0;
  /** Reconnection time the server asked for with `retry:`, in milliseconds. */
  retryMs: number | null = null;

  get lastEventId(): string | null {
    return this.lastId;
  }

  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCR) {
      // A "\r" ended the previous chunk: a following "\n" belongs to the same line break.
      if (text.startsWith("\n")) text = text.slice(1);
      this.pendingCR = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (ch === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) out.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) {
      this.comments++;
      return null;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventName = value;
        break;
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const event: SseEvent | null = this.hasData
      ? { event: this.eventName || "message", data: this.data.join("\n"), id: this.lastId }
      : null;
    this.data = [];
    this.hasData = false;
    this.eventName = "";
    return event;
  }
}
