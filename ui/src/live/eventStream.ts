/**
 * The one manager of `GET /api/v1/events`: connects with the session's headers, resumes with
 * Last-Event-ID, reconnects with capped backoff, and after repeated failures reports `polling`
 * so queries fall back to refetch intervals (it keeps trying to get back to `live`), or
 * `disconnected` while the server cannot be reached at all (by the stream, nor by those polls).
 */
import { ApiError } from "../api/errors";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff";
import { openStream, parseJson, readStream, type FetchLike } from "./sseClient";
import type { SseEvent } from "./sseParser";

export type ConnectionState = "offline" | "connecting" | "live" | "reconnecting" | "polling" | "disconnected";

/** Gateway answers: a proxy is there, the server behind it is not. */
const GATEWAY_STATUSES = new Set([502, 504]);

/**
 * What a failed request says about the server: `true` out of reach (no answer at all, or a
 * gateway's), `false` it answered, `null` nothing (the request was aborted, e.g. a query cancelled).
 */
export function unreachable(error: unknown): boolean | null {
  if (error instanceof DOMException && error.name === "AbortError") return null;
  if (error instanceof ApiError) return error.status === 0 || GATEWAY_STATUSES.has(error.status);
  return true; // fetch itself failed: nothing answered
}

export interface EventStreamHandlers {
  /** A `run`, `job` or `worker` event with its parsed JSON data. */
  onEvent: (name: string, data: unknown) => void;
  /** The server could not replay the gap: everything cached may be stale. */
  onReset: () => void;
  /**
   * The stream is up; `data` is `{domain, types}`. `resumed`: it continued from Last-Event-ID, so
   * nothing was missed; otherwise anything fetched before this moment may have missed changes.
   */
  onReady?: (data: unknown, resumed: boolean) => void;
  /** 401: the token is no longer accepted; the manager stops. */
  onUnauthorized?: () => void;
}

export interface EventStreamOptions extends EventStreamHandlers {
  url: string;
  fetch: FetchLike;
  headers: () => Record<string, string>;
  backoff?: BackoffPolicy;
  /** Consecutive failed attempts after which the state is `polling`. */
  failuresBeforePolling?: number;
  /** No bytes (not even a keepalive) for this long: the connection is dead; reconnect. */
  idleTimeoutMs?: number;
  random?: () => number;
}

type Listener = (state: ConnectionState) => void;

export class EventStream {
  private state: ConnectionState = "offline";
  private running = false;
  private failures = 0;
  /** The last word on whether the server answers (stream attempts and polls); null: not known. */
  private reachable: boolean | null = null;
  private lastEventId: string | null = null;
  private controller: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  /** This connection asked to resume (sent Last-Event-ID) and has not been told to reset. */
  private resuming = false;
  private readonly listeners = new Set<Listener>();
  private readonly backoff: BackoffPolicy;
  private readonly failuresBeforePolling: number;
  private readonly idleTimeoutMs: number;
  private readonly random: () => number;

  constructor(private readonly opts: EventStreamOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.failuresBeforePolling = opts.failuresBeforePolling ?? 3;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 45_000;
    this.random = opts.random ?? Math.random;
  }

  getState = (): ConnectionState => this.state;

  /** The id the next connection will resume from (null: start fresh). */
  get resumeId(): string | null {
    return this.lastEventId;
  }

  get failureCount(): number {
    return this.failures;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.reachable = null;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.clearTimers();
    this.controller?.abort();
    this.controller = null;
    this.setState("offline");
  }

  /**
   * A request outside the stream (a poll) succeeded or failed: once the stream has given up,
   * this tells `polling` (polls work) from `disconnected` (nothing gets through).
   */
  reportReachable = (reachable: boolean): void => {
    this.reachable = reachable;
    if (this.state === "polling" || this.state === "disconnected") this.setState(this.fallbackState());
  };

  private fallbackState(): ConnectionState {
    return this.reachable === false ? "disconnected" : "polling";
  }

  /** Drop the resume point and reconnect at once (the domain or token changed). */
  restart(): void {
    this.stop();
    this.lastEventId = null;
    this.start();
  }

  private connect(): void {
    const generation = ++this.generation;
    this.clearTimers();
    if (this.state !== "polling" && this.state !== "disconnected") this.setState(this.failures === 0 && this.state !== "live" ? "connecting" : "reconnecting");
    const controller = new AbortController();
    this.controller = controller;
    void this.run(generation, controller).then(
      () => this.failed(generation, null),
      (error: unknown) => this.failed(generation, error),
    );
  }

  private async run(generation: number, controller: AbortController): Promise<void> {
    this.resuming = this.lastEventId !== null;
    const response = await openStream({
      fetch: this.opts.fetch,
      url: this.opts.url,
      headers: this.opts.headers(),
      lastEventId: this.lastEventId,
      signal: controller.signal,
    });
    if (generation !== this.generation) return;
    this.armIdle(generation, controller);
    await readStream(response, {
      onActivity: () => this.armIdle(generation, controller),
      onEvent: (event) => {
        if (generation === this.generation) this.handle(event);
      },
    }, controller.signal);
  }

  private handle(event: SseEvent): void {
    if (event.id) this.lastEventId = event.id;
    const data = parseJson(event.data);
    switch (event.event) {
      case "ready":
        this.failures = 0;
        this.reachable = true;
        this.setState("live");
        this.opts.onReady?.(data, this.resuming);
        return;
      case "reset":
        this.resuming = false;
        this.opts.onReset();
        return;
      default:
        if (data !== undefined) this.opts.onEvent(event.event, data);
    }
  }

  private failed(generation: number, error: unknown): void {
    if (!this.running || generation !== this.generation) return;
    this.clearTimers();
    this.controller?.abort();
    if (error instanceof ApiError && error.status === 401) {
      this.stop();
      this.opts.onUnauthorized?.();
      return;
    }
    // A stream that ended or went idle says nothing about whether the server answers.
    const gone = error === null ? null : unreachable(error);
    if (gone !== null) this.reachable = !gone;
    this.failures++;
    this.setState(this.failures >= this.failuresBeforePolling ? this.fallbackState() : "reconnecting");
    const delay = backoffDelay(this.backoff, this.failures, this.random());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.connect();
    }, delay);
  }

  private armIdle(generation: number, controller: AbortController): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      controller.abort();
    }, this.idleTimeoutMs);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.retryTimer = null;
    this.idleTimer = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }
}
