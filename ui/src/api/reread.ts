import type { QueryClient, QueryKey } from "@tanstack/react-query";

/**
 * After a write, read `queryKey` again, even where a first read is still in flight: that read may
 * have been answered before the write, and TanStack Query hands a first read's answer to an
 * invalidation instead of asking again (it refetches only queries that have data). Cancelling it
 * first makes the invalidation ask anew. Every mutation hook refreshes what it changed this way
 * (reread.test.ts holds them to it). (The delivery log, opened by the click that sends a test
 * notification, stayed "No notifications yet": e2e 11-alerts, once in a full run.) Live updates
 * do not: under a burst of events, cancelling each read would starve the page of answers.
 */
export async function rereadAfterWrite(client: QueryClient, queryKey: QueryKey): Promise<void> {
  await client.cancelQueries({ queryKey });
  await client.invalidateQueries({ queryKey });
}
