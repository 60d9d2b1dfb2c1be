import { describe, expect, it, vi } from "vitest";
import { authHeaders, EXPIRED_REASON, SessionStore, type Session } from "./session";

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, v),
  };
}

const ADMIN: Session = { token: "admin-token", isAdmin: true, domain: "default", actor: "admin" };
const TENANT: Session = { token: "hjt_x_y", isAdmin: false, domain: "team-a", actor: "token:ci" };

describe("authHeaders", () => {
  it("names the admin's domain in X-Hydra-Domain", () => {
    expect(authHeaders({ ...ADMIN, domain: "payments" })).toEqual({ Authorization: "Bearer admin-token", "X-Hydra-Domain": "payments" });
  });
  it("never names a domain for a domain token (another domain would be 404)", () => {
    expect(authHeaders(TENANT)).toEqual({ Authorization: "Bearer hjt_x_y" });
  });
  it("sends nothing signed out", () => {
    expect(authHeaders(null)).toEqual({});
  });
});

describe("SessionStore", () => {
  it("keeps the session across reloads and forgets it on sign-out", () => {
    const storage = memoryStorage();
    const store = new SessionStore(storage);
    store.signIn(TENANT);
    expect(new SessionStore(storage).get()).toEqual(TENANT);
    store.signOut();
    expect(new SessionStore(storage).get()).toBeNull();
    expect(store.reason).toBeNull();
  });

  it("reads sessions stored before the actor was kept", () => {
    const storage = memoryStorage();
    storage.setItem("hydra.session", JSON.stringify({ token: "t", isAdmin: true, domain: "default" }));
    expect(new SessionStore(storage).get()).toEqual({ token: "t", isAdmin: true, domain: "default", actor: null });
  });

  it("a 401 for the current token signs out with a reason; one for an older token does not", () => {
    const store = new SessionStore(memoryStorage());
    const listener = vi.fn();
    store.subscribe(listener);
    store.signIn(TENANT);
    store.expire("some-older-token");
    expect(store.get()).toEqual(TENANT);
    store.expire(TENANT.token);
    expect(store.get()).toBeNull();
    expect(store.reason).toBe(EXPIRED_REASON);
    expect(store.reason).toContain("revoked");
    expect(listener).toHaveBeenCalledTimes(2);
    // Signing in again clears the reason.
    store.signIn(ADMIN);
    expect(store.reason).toBeNull();
  });

  it("confirm() aligns a stale stored session with /me, keeping the admin's chosen domain", () => {
    const store = new SessionStore(memoryStorage());
    store.signIn({ token: "t", isAdmin: true, domain: "ops", actor: null });
    store.confirm("t", { is_admin: true, actor: "admin", domain: "ops" });
    expect(store.get()).toEqual({ token: "t", isAdmin: true, domain: "ops", actor: "admin" });
    // The token turns out to be a domain token: no admin pages, its own domain.
    store.confirm("t", { is_admin: false, actor: "token:ci", domain: "team-a" });
    expect(store.get()).toEqual({ token: "t", isAdmin: false, domain: "team-a", actor: "token:ci" });
    // An answer about another token changes nothing.
    store.confirm("other", { is_admin: true, actor: "admin", domain: "default" });
    expect(store.get()?.isAdmin).toBe(false);
  });
});
