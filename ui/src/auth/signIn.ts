/** Checks a token against the server and works out whether it is the admin token. */
import { api } from "../api/client";
import { ApiError, formatDetail } from "../api/errors";
import { DEFAULT_DOMAIN, type Session } from "./session";

async function status(call: Promise<{ response: Response; error?: unknown }>): Promise<{ status: number; detail: unknown }> {
  try {
    const { response, error } = await call;
    const detail = typeof error === "object" && error !== null && "detail" in error ? (error).detail : null;
    return { status: response.status, detail };
  } catch (cause) {
    throw new ApiError(0, null, `Cannot reach the Hydra Jobs server (${String(cause)})`);
  }
}

/**
 * A token is valid if it can read the dashboard numbers. It is the admin token if it may list
 * domains: 200 once domains admin ships, 501 today (the route exists; only the admin token is
 * accepted by this version). A domain token gets 403/404 there.
 */
export async function checkToken(token: string): Promise<Session> {
  const headers = { Authorization: `Bearer ${token}` };
  const probe = await status(api.GET("/api/v1/stats", { params: { query: { hours: 1 } }, headers }));
  if (probe.status === 401) throw new ApiError(401, probe.detail, `The server rejected this token: ${formatDetail(probe.detail) || "invalid token"}`);
  if (probe.status >= 400) throw new ApiError(probe.status, probe.detail);
  const domains = await status(api.GET("/api/v1/domains", { headers }));
  const isAdmin = domains.status === 200 || domains.status === 501;
  return { token, isAdmin, domain: isAdmin ? DEFAULT_DOMAIN : null };
}
