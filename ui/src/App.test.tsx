// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { EXPIRED_REASON, sessionStore } from "./auth/session";
import { eventStream } from "./live/eventStreamInstance";
import { FakeApi, installDomShims, json, type SeenRequest } from "./test/fakeApi";
import { sseStream } from "./test/fakeFetch";
import { renderApp } from "./test/render";

const ADMIN_ME = { domain: "default", actor: "admin", is_admin: true, token_id: null };
const TENANT_ME = { domain: "team-a", actor: "token:ci", is_admin: false, token_id: "01ab" };
const DOMAINS = {
  items: [
    { name: "default", description: null, created_at: "2026-01-01T00:00:00Z", jobs: 2, tokens: 0 },
    { name: "team-a", description: "A", created_at: "2026-01-01T00:00:00Z", jobs: 1, tokens: 1 },
  ],
  next_cursor: null,
};

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  eventStream.stop();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

/** A server that knows two tokens; everything else it is asked answers an empty page. */
function server(tokens: Record<string, object>) {
  return new FakeApi((r: SeenRequest) => {
    const token = r.headers.get("Authorization")?.replace("Bearer ", "") ?? "";
    const me = tokens[token];
    if (!me) return json(401, { detail: "invalid or revoked token" });
    if (r.path === "/api/v1/me") return json(200, me);
    if (r.path === "/api/v1/domains") return (me as { is_admin: boolean }).is_admin ? json(200, DOMAINS) : json(403, { detail: "this needs the admin token" });
    // An open stream that says nothing: a 401 can only come from the next call.
    if (r.path === "/api/v1/events") return sseStream().response;
    return json(200, { items: [], next_cursor: null });
  }).install();
}

async function signIn(token: string) {
  fireEvent.change(await screen.findByTestId("token-input"), { target: { value: token } });
  fireEvent.click(screen.getByTestId("signin-submit"));
}

function navLabels(): string[] {
  return within(screen.getByTestId("nav"))
    .getAllByRole("link")
    .map((a) => a.textContent ?? "");
}

describe("signing in", { timeout: 30_000 }, () => { // lazy pages: slow on a loaded 2-core machine
  it("a domain token: its domain in the header, no switcher, no Domains page", async () => {
    const api = server({ "hjt_a_b": TENANT_ME });
    renderApp(<App />, { path: "/domains" });
    await signIn("hjt_a_b");

    expect((await screen.findByTestId("domain-label")).textContent).toBe("team-a");
    expect(screen.getByTestId("identity-token").textContent).toBe("token:ci");
    expect(screen.queryByTestId("domain-switcher")).toBeNull();
    expect(screen.queryByTestId("identity-admin")).toBeNull();
    expect(navLabels()).toContain("Audit");
    expect(navLabels()).not.toContain("Domains");
    expect(await screen.findByText("No such page")).toBeTruthy();
    expect(sessionStore.get()).toEqual({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
    // It never names a domain, and never asks the admin-only list.
    await waitFor(() => expect(api.requests.length).toBeGreaterThan(1));
    expect(api.requests.some((r) => r.headers.has("X-Hydra-Domain"))).toBe(false);
    expect(api.to("/api/v1/domains")).toHaveLength(0);
  });

  it("the admin token: marked admin, a switcher over GET /domains, the Domains page", async () => {
    server({ adm: ADMIN_ME });
    renderApp(<App />, { path: "/domains" });
    await signIn("adm");

    expect(await screen.findByTestId("identity-admin")).toBeTruthy();
    expect(screen.getByTestId("domain-switcher")).toBeTruthy();
    expect(navLabels()).toContain("Domains");
    const table = await screen.findByTestId("domains-table", {}, { timeout: 10_000 }); // a lazy page: slow on a loaded machine
    await waitFor(() => expect(within(table).getAllByTestId("domain-row-name").map((e) => e.textContent)).toEqual(["default", "team-a"]));
  });

  it("a wrong token stays on the sign-in page, saying why", async () => {
    server({});
    renderApp(<App />);
    await signIn("nope");
    expect((await screen.findByTestId("signin-error")).textContent).toContain("rejected");
    expect(sessionStore.get()).toBeNull();
  });
});

describe("a token revoked while signed in", () => {
  it("the next call's 401 returns to the sign-in page with the reason", async () => {
    const tokens: Record<string, object> = { "hjt_a_b": TENANT_ME };
    server(tokens);
    sessionStore.signIn({ token: "hjt_a_b", isAdmin: false, domain: "team-a", actor: "token:ci" });
    renderApp(<App />, { path: "/audit" });
    expect(await screen.findByTestId("audit-page")).toBeTruthy();

    delete tokens["hjt_a_b"]; // revoked
    fireEvent.click(screen.getByTestId("audit-refresh"));

    expect((await screen.findByTestId("signin-error")).textContent).toBe(EXPIRED_REASON);
    expect(screen.queryByTestId("audit-page")).toBeNull();
    expect(sessionStore.get()).toBeNull();
  });
});
