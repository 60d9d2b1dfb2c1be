/**
 * Incremental text/event-stream parsing for the fetch-based streams, by eventsource-parser: feed
 * it decoded text in chunks of any size, get back the events completed so far. On top of the
 * library it keeps what a reconnecting client needs: the last event id in effect (the spec's
 * "last event ID" persists across events; the library reports only the id an event carried), the
 * server's `retry:` time, and a count of comment lines (keepalives, a sign of life).
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id in effect when this event was dispatched (ids persist across events). */
  id: string | null;
}

export class SseParser {
  private readonly parser = createParser({
    onEvent: (message) => this.dispatch(message),
    onComment: () => {
      this.comments++;
    },
    onRetry: (ms) => {
      this.retryMs = ms;
    },
  });
  private lastId: string | null = null;
  private completed: SseEvent[] = [];
  /** Keepalive comment lines seen; a sign of life without an event. */
  comments = 0;
  /** Reconnection time the server asked for with `retry:`, in milliseconds. */
  retryMs: number | null = null;

  get lastEventId(): string | null {
    return this.lastId;
  }

  push(chunk: string): SseEvent[] {
    this.parser.feed(chunk);
    const out = this.completed;
    this.completed = [];
    return out;
  }

  private dispatch(message: EventSourceMessage): void {
    if (message.id !== undefined) this.lastId = message.id;
    this.completed.push({ event: message.event ?? "message", data: message.data, id: this.lastId });
  }
}
