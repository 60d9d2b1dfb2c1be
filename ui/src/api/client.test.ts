// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXPIRED_REASON, sessionStore } from "../auth/session";
import { FakeApi, json } from "../test/fakeApi";
import { api, unwrap } from "./client";

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

describe("401 anywhere ends the session", () => {
  it("a call answered 401 (e.g. the token was revoked) signs out with a reason for the sign-in page", async () => {
    new FakeApi(() => json(401, { detail: "invalid or revoked token" })).install();
    sessionStore.signIn({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
    await expect(unwrap(api.GET("/api/v1/workers", {}))).rejects.toThrow("invalid or revoked token");
    expect(sessionStore.get()).toBeNull();
    expect(sessionStore.reason).toBe(EXPIRED_REASON);
  });

  it("a late 401 for a token signed out since does not end the new session", async () => {
    let answer: (r: Response) => void = () => undefined;
    const server = new FakeApi(() => new Promise<Response>((resolve) => (answer = resolve))).install();
    sessionStore.signIn({ token: "old", isAdmin: false, domain: "team-a", actor: "token:ci" });
    const pending = unwrap(api.GET("/api/v1/workers", {})).catch(() => undefined);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    sessionStore.signIn({ token: "new", isAdmin: true, domain: "default", actor: "admin" });
    answer(json(401, { detail: "invalid or revoked token" }));
    await pending;
    expect(sessionStore.get()?.token).toBe("new");
  });

  it("other errors leave the session alone (403 is 'not allowed', not 'signed out')", async () => {
    new FakeApi(() => json(403, { detail: "this needs the admin token" })).install();
    sessionStore.signIn({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
    await expect(unwrap(api.GET("/api/v1/domains", {}))).rejects.toThrow("this needs the admin token");
    expect(sessionStore.get()?.token).toBe("hjt_a_b");
  });
});
