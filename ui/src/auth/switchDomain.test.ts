// @vitest-environment jsdom
import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, unwrap } from "../api/client";
import { eventStream } from "../live/eventStreamInstance";
import { FakeApi, json } from "../test/fakeApi";
import { sessionStore } from "./session";
import { switchDomain } from "./switchDomain";

afterEach(() => {
  eventStream.stop();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

function jobsServer() {
  return new FakeApi((r) => {
    if (r.path === "/api/v1/jobs") return json(200, { items: [{ id: r.headers.get("X-Hydra-Domain") ?? "none" }], next_cursor: null });
    if (r.path === "/api/v1/events") return json(503, { detail: "not in this test" });
    return undefined;
  }).install();
}

/** A query as a page would hold it: active, so a reset refetches it. */
function watchJobs(client: QueryClient) {
  const observer = new QueryObserver(client, {
    queryKey: ["jobs", "list"],
    queryFn: () => unwrap(api.GET("/api/v1/jobs", {})),
  });
  const unsubscribe = observer.subscribe(() => undefined);
  return { observer, unsubscribe };
}

describe("the admin's domain switch", () => {
  it("changes X-Hydra-Domain on every later call and refetches what is on screen", async () => {
    const server = jobsServer();
    sessionStore.signIn({ token: "adm", isAdmin: true, domain: "default", actor: "admin" });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const { observer, unsubscribe } = watchJobs(client);
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toEqual({ items: [{ id: "default" }], next_cursor: null }));

    expect(await switchDomain(client, "team-a")).toBe(true);
    expect(sessionStore.get()?.domain).toBe("team-a");
    await vi.waitFor(() => expect(observer.getCurrentResult().data).toEqual({ items: [{ id: "team-a" }], next_cursor: null }));
    expect(server.to("/api/v1/jobs").map((r) => r.headers.get("X-Hydra-Domain"))).toEqual(["default", "team-a"]);
    expect(server.to("/api/v1/jobs").every((r) => r.headers.get("Authorization") === "Bearer adm")).toBe(true);
    unsubscribe();
  });

  it("the event stream reconnects naming the new domain", async () => {
    const server = jobsServer();
    sessionStore.signIn({ token: "adm", isAdmin: true, domain: "default", actor: "admin" });
    await switchDomain(new QueryClient(), "payments");
    eventStream.restart(); // what LiveSync does when the session's domain changes
    await vi.waitFor(() => expect(server.to("/api/v1/events")).toHaveLength(1));
    expect(server.to("/api/v1/events")[0]?.headers.get("X-Hydra-Domain")).toBe("payments");
  });

  it("does nothing for a domain token, or for a name that cannot be a domain", async () => {
    const client = new QueryClient();
    sessionStore.signIn({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
    expect(await switchDomain(client, "other")).toBe(false);
    expect(sessionStore.get()?.domain).toBe("team-a");
    sessionStore.signIn({ token: "adm", isAdmin: true, domain: "default", actor: "admin" });
    expect(await switchDomain(client, "Not A Domain")).toBe(false);
    expect(await switchDomain(client, "default")).toBe(false);
    expect(sessionStore.get()?.domain).toBe("default");
  });
});
