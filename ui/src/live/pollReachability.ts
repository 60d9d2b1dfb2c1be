/**
 * Every query's outcome tells whether the server answers: once the stream has given up, the polls
 * that replace it decide between "Polling" (they get through) and "Disconnected, retrying".
 */
import type { QueryCache } from "@tanstack/react-query";
import { unreachable } from "./eventStream";

export function watchPolls(cache: QueryCache, report: (reachable: boolean) => void): () => void {
  return cache.subscribe((event) => {
    if (event.type !== "updated") return;
    // `manual`: the cache was written from a stream event or a mutation, not fetched.
    if (event.action.type === "success" && !event.action.manual) report(true);
    if (event.action.type === "error") {
      const gone = unreachable(event.action.error);
      if (gone !== null) report(!gone);
    }
  });
}
