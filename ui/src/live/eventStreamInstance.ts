/** The app's single /events connection. Handlers are bound by <LiveSync> once a query client exists. */
import { authHeaders, sessionStore } from "../auth/session";
import { EventStream, type EventStreamHandlers } from "./eventStream";

const noop: EventStreamHandlers = { onEvent: () => undefined, onReset: () => undefined };
let sink: EventStreamHandlers = noop;

export const EVENTS_URL = "/api/v1/events?types=run,job,worker";

export const eventStream = new EventStream({
  url: EVENTS_URL,
  fetch: (input, init) => window.fetch(input, init),
  headers: () => authHeaders(sessionStore.get()),
  onEvent: (name, data) => sink.onEvent(name, data),
  onReset: () => sink.onReset(),
  onReady: (data, resumed) => sink.onReady?.(data, resumed),
  onUnauthorized: () => sink.onUnauthorized?.(),
});

export function bindEventHandlers(handlers: EventStreamHandlers): () => void {
  sink = handlers;
  return () => {
    if (sink === handlers) sink = noop;
  };
}
