/**
 * Fetch-based SSE reading (EventSource cannot send the Authorization header): open a stream,
 * then hand each parsed event to a callback until the server closes it or the signal aborts.
 */
import { ApiError } from "../api/errors";
import { SseParser, type SseEvent } from "./sseParser";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface OpenStreamOptions {
  fetch: FetchLike;
  url: string;
  headers: Record<string, string>;
  lastEventId: string | null;
  signal: AbortSignal;
}

/** Opens the stream; throws ApiError for a non-2xx answer (with the server's detail). */
export async function openStream(opts: OpenStreamOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "text/event-stream", ...opts.headers };
  if (opts.lastEventId) headers["Last-Event-ID"] = opts.lastEventId;
  const response = await opts.fetch(opts.url, { headers, signal: opts.signal, cache: "no-store" });
  if (!response.ok) {
    let detail: unknown = null;
    try {
      const body: unknown = await response.json();
      detail = typeof body === "object" && body !== null && "detail" in body ? (body).detail : body;
    } catch {
      // No JSON body.
    }
    throw new ApiError(response.status, detail);
  }
  if (!response.body) throw new ApiError(response.status, "the event stream has no body");
  return response;
}

export interface ReadStreamHooks {
  onEvent: (event: SseEvent) => void;
  /** Any bytes arrived (events or keepalive comments). */
  onActivity?: () => void;
}

/** Reads until the server ends the stream (resolves) or the read fails/aborts (rejects). */
export async function readStream(response: Response, hooks: ReadStreamHooks, signal?: AbortSignal): Promise<void> {
  const body = response.body;
  if (!body) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  // Not every fetch implementation errors a pending read on abort: cancel the reader ourselves.
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", onAbort);
  try {
    if (signal?.aborted) return;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hooks.onActivity?.();
      for (const event of parser.push(decoder.decode(value, { stream: true }))) hooks.onEvent(event);
    }
    // An event not closed by a blank line before EOF is incomplete: the spec drops it.
    for (const event of parser.push(decoder.decode())) hooks.onEvent(event);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
