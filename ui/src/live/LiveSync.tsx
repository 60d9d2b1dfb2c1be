/** Runs the event stream while signed in and feeds it into the query cache. Renders nothing. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { sessionStore } from "../auth/session";
import { useSession } from "../auth/useSession";
import { CacheSync } from "./cacheSync";
import { bindEventHandlers, eventStream } from "./eventStreamInstance";
import { watchPolls } from "./pollReachability";

function reportedDomain(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const domain = (data as { domain?: unknown }).domain;
  return typeof domain === "string" ? domain : null;
}

export function LiveSync() {
  const client = useQueryClient();
  const session = useSession();
  const token = session?.token ?? null;
  const domain = session?.domain ?? null;
  const isAdmin = session?.isAdmin ?? false;

  useEffect(() => {
    const sync = new CacheSync(client);
    const unbind = bindEventHandlers({
      onEvent: sync.onEvent,
      onReset: sync.onReset,
      onReady: (data, resumed) => {
        // A domain token learns its domain from the server; an admin chose it.
        const d = reportedDomain(data);
        if (d && !sessionStore.get()?.isAdmin) sessionStore.setDomain(d);
        if (resumed) sync.onResumed();
        else sync.onFreshStream();
      },
      onUnauthorized: () => sessionStore.expire(sessionStore.get()?.token ?? ""),
    });
    return () => {
      unbind();
      sync.dispose();
    };
  }, [client]);

  useEffect(() => watchPolls(client.getQueryCache(), eventStream.reportReachable), [client]);

  useEffect(() => {
    if (!token) {
      eventStream.stop();
      // Nothing fetched with the old token may show to the next person who signs in.
      client.clear();
      return;
    }
    eventStream.restart();
    return () => eventStream.stop();
    // A domain token's domain arrives from the stream itself: only an admin's choice restarts it.
  }, [client, token, isAdmin ? domain : null]); // eslint-disable-line react-hooks/exhaustive-deps

  return null;
}
