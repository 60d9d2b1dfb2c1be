// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { FakeApi, json } from "../test/fakeApi";
import { sessionStore } from "./session";
import { checkToken } from "./signIn";

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

describe("checkToken (sign-in asks GET /me who the token is)", () => {
  it("the admin token: an admin session starting in the server's default domain", async () => {
    const server = new FakeApi((r) => (r.path === "/api/v1/me" ? json(200, { domain: "default", actor: "admin", is_admin: true, token_id: null }) : undefined)).install();
    expect(await checkToken("admin-secret")).toEqual({ token: "admin-secret", isAdmin: true, domain: "default", actor: "admin" });
    const [call] = server.to("/api/v1/me");
    expect(call?.headers.get("Authorization")).toBe("Bearer admin-secret");
    expect(call?.headers.has("X-Hydra-Domain")).toBe(false);
    // /me is the only probe: no guessing from /domains any more.
    expect(server.requests.map((r) => r.path)).toEqual(["/api/v1/me"]);
  });

  it("a domain token: not admin, bound to the domain the server names", async () => {
    new FakeApi(() => json(200, { domain: "team-a", actor: "token:ci", is_admin: false, token_id: "01ab" })).install();
    expect(await checkToken("hjt_01ab_secret")).toEqual({ token: "hjt_01ab_secret", isAdmin: false, domain: "team-a", actor: "token:ci" });
  });

  it("a rejected token (401) is refused in words, and signs nobody in or out", async () => {
    sessionStore.signIn({ token: "someone-else", isAdmin: true, domain: "default", actor: "admin" });
    new FakeApi(() => json(401, { detail: "invalid or revoked token" })).install();
    const error = await checkToken("hjt_revoked").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toBe("The server rejected this token: invalid or revoked token");
    expect(sessionStore.get()?.token).toBe("someone-else");
  });

  it("an unreachable server says so", async () => {
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")));
    await expect(checkToken("t")).rejects.toThrow("Cannot reach the Hydra Jobs server");
  });
});
