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

/**
 * Paths whose request body the published schema does not describe yet (the AI routes, which
 * answer 501 today). The path is still checked against the generated `paths`.
 */
type JsonPath = Extract<keyof paths, string>;

export async function postJson(path: JsonPath, body: unknown, pathParams: Record<string, string> = {}): Promise<unknown> {
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name] ?? ""));
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders(sessionStore.get()) },
      body: JSON.stringify(body),
    });
  } catch (cause) {
    throw new ApiError(0, null, `Cannot reach the Hydra Jobs server (${String(cause)})`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text as the detail.
  }
  if (!response.ok) {
    if (response.status === 401) sessionStore.expire(sessionStore.get()?.token ?? "");
    const detail =
      typeof parsed === "object" && parsed !== null && "detail" in parsed ? (parsed).detail : parsed;
    throw new ApiError(response.status, detail);
  }
  return parsed;
}
