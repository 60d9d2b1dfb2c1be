/** The typed API client: openapi-fetch over the generated `paths`, with auth headers and 401 handling. */
import createClient, { type Middleware } from "openapi-fetch";
import { authHeaders, sessionStore } from "../auth/session";
import { ApiError } from "./errors";
import type { paths } from "./schema";

const auth: Middleware = {
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders(sessionStore.get()))) {
      if (!request.headers.has(name)) request.headers.set(name, value);
    }
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401) {
      const sent = request.headers.get("Authorization")?.replace(/^Bearer /, "");
      if (sent) sessionStore.expire(sent);
    }
    return response;
  },
};

/**
 * Same-origin absolute base (also makes `new Request` work under jsdom); fetch is looked up per
 * call so tests can stub the global.
 */
export const api = createClient<paths>({
  baseUrl: typeof window !== "undefined" ? window.location.origin : "",
  fetch: (request) => globalThis.fetch(request),
});
api.use(auth);

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful call, or an ApiError carrying the server's `detail` in words. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, null, `Cannot reach the Hydra Jobs server (${String(cause)})`);
  }
  const { response } = outcome;
  if (!response.ok) {
    const body = outcome.error;
    const detail =
      typeof body === "object" && body !== null && "detail" in body ? (body).detail : body;
    throw new ApiError(response.status, detail);
  }
  return outcome.data as T;
}
