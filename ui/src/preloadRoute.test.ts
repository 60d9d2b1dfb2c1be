// @vitest-environment jsdom
import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { qk } from "./api/queryKeys";
import { sessionStore } from "./auth/session";
import { preloadRoute } from "./preloadRoute";
import { FakeApi, json } from "./test/fakeApi";

const PAGE = { items: [{ id: "r1" }], next_cursor: null };

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

function signedIn() {
  sessionStore.signIn({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
}

describe("preloadRoute", () => {
  it("asks for the Runs page's first rows under the key the page reads, with its filter", async () => {
    signedIn();
    const api = new FakeApi((r) => (r.path === "/api/v1/runs" ? json(200, PAGE) : undefined)).install();
    const client = new QueryClient();

    preloadRoute(client, { pathname: "/runs", search: "?status=failed&job=j1" });

    const filter = { statuses: ["failed" as const], jobId: "j1" };
    await vi.waitFor(() => expect(client.getQueryData(qk.runs(filter, null))).toEqual(PAGE));
    const [asked] = api.to("/api/v1/runs");
    expect(asked?.query.getAll("status")).toEqual(["failed"]);
    expect(asked?.query.get("job_id")).toBe("j1");
    expect(asked?.headers.get("Authorization")).toBe("Bearer hjt_a_b");
  });

  it("asks for nothing signed out, or on a page it does not know", async () => {
    const api = new FakeApi(() => json(200, PAGE)).install();
    const client = new QueryClient();
    preloadRoute(client, { pathname: "/runs", search: "" });
    signedIn();
    preloadRoute(client, { pathname: "/jobs", search: "" });
    await new Promise((r) => setTimeout(r, 0)); // a request would have been made by the next task
    expect(api.requests).toEqual([]);
  });

  it("a failed early read is left for the page to ask again", async () => {
    signedIn();
    new FakeApi(() => json(500, { detail: "down" })).install();
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    preloadRoute(client, { pathname: "/runs", search: "" });
    await vi.waitFor(() => expect(client.getQueryState(qk.runs({}, null))?.status).toBe("error"));
  });
});
