/** The admin's domain switch: every later call and the event stream name the new domain. */
import type { QueryClient } from "@tanstack/react-query";
import { DOMAIN_RE, sessionStore as defaultStore, type SessionStore } from "./session";

/**
 * Select `domain` for the admin session and refetch everything: nothing cached belongs to the new
 * domain. Calls in flight are cancelled first so an answer for the old domain cannot land after.
 * (LiveSync reconnects the event stream when the session's domain changes.)
 */
export async function switchDomain(client: QueryClient, domain: string, store: SessionStore = defaultStore): Promise<boolean> {
  const session = store.get();
  if (!session?.isAdmin || !DOMAIN_RE.test(domain) || session.domain === domain) return false;
  await client.cancelQueries();
  store.setDomain(domain);
  await client.resetQueries();
  return true;
}
