/**
 * A fake Hydra Jobs server for component tests: stubs the global fetch, answers by method and path
 * from a routing function, and records every request with its headers.
 */
import { vi } from "vitest";

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

export type Route = (req: SeenRequest) => Response | Promise<Response> | undefined;

export function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export class FakeApi {
  readonly requests: SeenRequest[] = [];

  constructor(private route: Route) {}

  /** Replace the routing function (e.g. the server starts refusing a token). */
  setRoute(route: Route): void {
    this.route = route;
  }

  /** Requests to `path` (exact), in order. */
  to(path: string, method = "GET"): SeenRequest[] {
    return this.requests.filter((r) => r.path === path && r.method === method);
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const base = typeof window !== "undefined" ? window.location.origin : "http://localhost";
    const request = input instanceof Request ? input : new Request(new URL(String(input), base), init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const seen: SeenRequest = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    this.requests.push(seen);
    const response = await this.route(seen);
    return response ?? json(404, { detail: `no fake route for ${seen.method} ${seen.path}` });
  };

  install(): this {
    vi.stubGlobal("fetch", this.fetch);
    return this;
  }
}

/** What antd needs from the browser that jsdom lacks. Call once per test file (jsdom environment). */
export function installDomShims(): void {
  const matchMedia = (query: string): Partial<MediaQueryList> => ({
    matches: false,
    media: query,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  });
  Object.defineProperty(window, "matchMedia", { configurable: true, value: matchMedia });
  // antd measures scrollbars with a pseudo-element, which jsdom does not implement (and logs).
  const computed = window.getComputedStyle.bind(window);
  Object.defineProperty(window, "getComputedStyle", { configurable: true, value: (el: Element) => computed(el) });
  // CodeMirror measures text through ranges, which jsdom does not lay out.
  const empty = (): DOMRectList => Object.assign([], { item: () => null });
  Object.defineProperty(Range.prototype, "getClientRects", { configurable: true, value: empty });
  Object.defineProperty(Range.prototype, "getBoundingClientRect", { configurable: true, value: () => new DOMRect() });
}
