/**
 * Follows `GET /runs/{id}/logs/stream`: `log` events `{offset, data}` with id = next offset, then
 * one `end`. Reconnects with Last-Event-ID = the last offset received, so nothing is missed or
 * repeated, with capped backoff; gives up only when stopped.
 */
import { ApiError } from "../api/errors";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "../live/backoff";
import { openStream, parseJson, readStream, type FetchLike } from "../live/sseClient";

export interface LogEnd {
  status: string;
  exit_code: number | null;
  truncated: boolean;
}

export interface LogFollowerOptions {
  fetch: FetchLike;
  url: string;
  headers: () => Record<string, string>;
  onData: (text: string, offset: number) => void;
  onEnd: (end: LogEnd) => void;
  onError?: (error: unknown, willRetry: boolean) => void;
  backoff?: BackoffPolicy;
  random?: () => number;
}

function readEnd(data: unknown): LogEnd {
  const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  return {
    status: typeof d.status === "string" ? d.status : "unknown",
    exit_code: typeof d.exit_code === "number" ? d.exit_code : null,
    truncated: d.truncated === true,
  };
}

export class LogFollower {
  /** Characters received: the offset to resume from. */
  offset = 0;
  private stopped = false;
  private done = false;
  private failures = 0;
  private controller: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: LogFollowerOptions) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.done) {
      const controller = new AbortController();
      this.controller = controller;
      try {
        const response = await openStream({
          fetch: this.opts.fetch,
          url: this.opts.url,
          headers: this.opts.headers(),
          lastEventId: this.offset > 0 ? String(this.offset) : null,
          signal: controller.signal,
        });
        await readStream(response, {
          onEvent: (event) => {
            if (this.stopped) return;
            const data = parseJson(event.data);
            if (event.event === "log" && typeof data === "object" && data !== null) {
              const { offset, data: text } = data as { offset?: unknown; data?: unknown };
              if (typeof text !== "string") return;
              const at = typeof offset === "number" ? offset : this.offset;
              // Skip what we already have if the server replays from an earlier offset.
              const fresh = at < this.offset ? text.slice(this.offset - at) : text;
              const next = event.id && /^\d+$/.test(event.id) ? Number(event.id) : at + text.length;
              if (fresh) this.opts.onData(fresh, Math.max(at, this.offset));
              this.offset = Math.max(this.offset, next);
              this.failures = 0;
            } else if (event.event === "end") {
              this.done = true;
              this.opts.onEnd(readEnd(data));
            }
          },
        }, controller.signal);
        if (this.done || this.stopped) return;
        // The server closed without `end` (restart, slow client): resume.
        this.failures++;
      } catch (error) {
        if (this.stopped) return;
        const fatal = error instanceof ApiError && [401, 404].includes(error.status);
        this.opts.onError?.(error, !fatal);
        if (fatal) return;
        this.failures++;
      }
      await this.sleep(backoffDelay(this.opts.backoff ?? DEFAULT_BACKOFF, this.failures, (this.opts.random ?? Math.random)()));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timer = setTimeout(resolve, ms);
    });
  }
}
