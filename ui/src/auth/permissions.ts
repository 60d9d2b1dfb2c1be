/**
 * What the signed-in token may do, from its role (`GET /me`), so the UI offers only that.
 * The server checks every call anyway (each route declares its role): this only hides what
 * would be refused. A session whose role is not known yet (signed in before roles existed) is
 * not second-guessed: the server answers.
 */
import type { Role, Session } from "./session";
import { useSession } from "./useSession";

export type { Role };

/** Least to most: each role may do everything of the roles before it. */
export const ROLES: readonly Role[] = ["viewer", "operator", "editor", "owner"];

export const ROLE_HELP: Record<Role, string> = {
  viewer: "reads everything of the domain",
  operator: "+ runs, cancels, retries, pauses and resumes jobs, drains workers, runs workers",
  editor: "+ creates, changes, deletes, validates, imports and restores jobs",
  owner: "+ manages the domain's tokens",
};

export function can(session: Pick<Session, "isAdmin" | "role"> | null, needed: Role): boolean {
  // No session (only the sign-in page shows then) or no role known: the server decides.
  if (!session || session.isAdmin || session.role == null) return true;
  return ROLES.indexOf(session.role) >= ROLES.indexOf(needed);
}

/** `can` for the current session: `const may = useCan(); may("operator")`. */
export function useCan(): (needed: Role) => boolean {
  const session = useSession();
  return (needed) => can(session, needed);
}
