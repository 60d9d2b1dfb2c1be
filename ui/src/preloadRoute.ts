/**
 * The first data of the page the browser opens, asked for while that page's code still loads:
 * the request no longer waits for the shell to run, the route's chunk to load and the page to
 * render (on a warm load of /runs that was ~230 ms of the 500 ms budget: issue 19). The page's own
 * query then finds the answer in the cache, or in flight, under the same key.
 */
import type { QueryClient } from "@tanstack/react-query";
import { sessionStore } from "./auth/session";
import { prefetchRuns } from "./hooks/useRuns";
import { filterFromParams } from "./runs/runFilterParams";

export function preloadRoute(client: QueryClient, where: { pathname: string; search: string }): void {
  if (!sessionStore.get()) return; // signed out: the sign-in page asks for nothing
  if (where.pathname === "/runs") {
    // A failed early read shows nothing: the page asks again and shows its error.
    prefetchRuns(client, filterFromParams(new URLSearchParams(where.search))).catch(() => undefined);
  }
}
