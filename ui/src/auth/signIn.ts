/** Checks a token against the server (`GET /me`): whose it is, admin or not, and its domain. */
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/errors";
import type { Me } from "../api/types";
import type { Session } from "./session";

/** The session `me` describes for `token`. The admin starts in the domain the server defaulted to. */
export function sessionFromMe(token: string, me: Me): Session {
  return { token, isAdmin: me.is_admin, domain: me.domain, actor: me.actor, role: me.role };
}

/**
 * Asks the server who `token` is. Sent with no X-Hydra-Domain (a domain token naming another
 * domain gets 404, and the admin should start in the default one). 401 becomes a sentence.
 */
export async function checkToken(token: string): Promise<Session> {
  try {
    const me = await unwrap(api.GET("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } }));
    return sessionFromMe(token, me);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new ApiError(401, error.detail, `The server rejected this token: ${error.message}`);
    }
    throw error;
  }
}
