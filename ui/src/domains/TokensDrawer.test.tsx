// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionStore } from "../auth/session";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { TokensDrawer } from "./TokensDrawer";
import { workerCommand } from "./TokenCreatedModal";

const SECRET = "hjt_01a2b3c4d5e6f708090a0b0c0d0e0f10_Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHd2dXRzcnFwb25t";
const INFO = { id: "01a2b3c4d5e6f708090a0b0c0d0e0f10", domain: "team-a", name: "ci", role: "operator", created_at: "2026-01-01T00:00:00Z", created_by: "admin", last_used_at: null, revoked_at: null };

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

function server() {
  const tokens: object[] = [];
  return new FakeApi((r) => {
    if (r.path !== "/api/v1/domains/team-a/tokens") return undefined;
    if (r.method === "GET") return json(200, { items: tokens, next_cursor: null });
    const name = (r.body as { name: string }).name;
    if (name === "taken") return json(422, [{ loc: ["body", "name"], msg: "String should match pattern", type: "x" }]);
    tokens.push(INFO);
    return json(201, { ...INFO, name, token: SECRET });
  }).install();
}

/** Everything the app keeps in memory besides the DOM: the query and mutation caches. */
function cachedText(client: ReturnType<typeof renderApp>["client"]): string {
  const queries = client.getQueryCache().getAll().map((q) => q.state.data);
  const mutations = client.getMutationCache().getAll().map((m) => [m.state.data, m.state.variables]);
  return JSON.stringify([queries, mutations]);
}

describe("creating a token", () => {
  it("shows the secret once, with a copy button and the worker command, then forgets it", async () => {
    const api = server();
    sessionStore.signIn({ token: "adm", isAdmin: true, domain: "default", actor: "admin" });
    const { client } = renderApp(<TokensDrawer domain="team-a" onClose={() => undefined} />);

    fireEvent.change(await screen.findByTestId("token-name"), { target: { value: "ci" } });
    fireEvent.click(screen.getByRole("radio", { name: "operator" }));
    fireEvent.click(screen.getByTestId("create-token"));

    const shown = await screen.findByTestId("token-created");
    expect(within(shown).getByTestId("new-token-secret").textContent).toContain(SECRET);
    expect(within(shown).getByText(/you will not see it again/i)).toBeTruthy();
    expect(within(shown).getByTestId("worker-hint").textContent).toContain(`API_TOKEN=${SECRET} WORKER_DOMAIN=team-a hydra-jobs worker`);
    // A copy button for the secret (antd's copyable).
    expect(within(within(shown).getByTestId("new-token-secret")).getByRole("button", { name: /copy/i })).toBeTruthy();
    expect(api.to("/api/v1/domains/team-a/tokens", "POST")[0]?.body).toEqual({ name: "ci", role: "operator" });
    // Never kept in the caches: only in the modal's state.
    expect(cachedText(client)).not.toContain(SECRET);

    fireEvent.click(screen.getByTestId("token-copied"));
    await waitFor(() => expect(screen.queryByTestId("token-created")).toBeNull());
    expect(document.body.textContent).not.toContain(SECRET);
    // The list shows the new token (refetched), still without its secret.
    await waitFor(() => expect(screen.getAllByTestId("token-row-name").map((e) => e.textContent)).toEqual(["ci"]));
    await act(() => new Promise((r) => setTimeout(r, 50)));
    expect(document.body.textContent).not.toContain(SECRET);
    expect(cachedText(client)).not.toContain(SECRET);
  }, 30_000); // many renders: slow on a loaded machine

  it("shows the server's validation error at the name field", async () => {
    server();
    renderApp(<TokensDrawer domain="team-a" onClose={() => undefined} />);
    fireEvent.change(await screen.findByTestId("token-name"), { target: { value: "taken" } });
    fireEvent.click(screen.getByRole("radio", { name: "viewer" }));
    fireEvent.click(screen.getByTestId("create-token"));
    expect(await screen.findByText("String should match pattern")).toBeTruthy();
    expect(screen.queryByTestId("token-created")).toBeNull();
  });

  it("refuses a name the server would refuse, before asking it", async () => {
    const api = server();
    renderApp(<TokensDrawer domain="team-a" onClose={() => undefined} />);
    fireEvent.change(await screen.findByTestId("token-name"), { target: { value: "-bad!" } });
    fireEvent.click(screen.getByTestId("create-token"));
    expect(await screen.findByText(/starts with a letter or digit/)).toBeTruthy();
    expect(api.to("/api/v1/domains/team-a/tokens", "POST")).toHaveLength(0);
  });
});

describe("roles", () => {
  it("asks for a role before asking the server (the API has no default)", async () => {
    const api = server();
    renderApp(<TokensDrawer domain="team-a" onClose={() => undefined} />);
    fireEvent.change(await screen.findByTestId("token-name"), { target: { value: "ci" } });
    fireEvent.click(screen.getByTestId("create-token"));
    expect(await screen.findByText("Choose what it may do")).toBeTruthy();
    expect(api.to("/api/v1/domains/team-a/tokens", "POST")).toHaveLength(0);
  });

  it("shows each token's role; an owner cannot change its own", async () => {
    new FakeApi((r) =>
      r.path === "/api/v1/domains/team-a/tokens" && r.method === "GET"
        ? json(200, {
            items: [
              { ...INFO, id: "a".repeat(32), name: "boss", role: "owner" },
              { ...INFO, id: "b".repeat(32), name: "ci", role: "viewer" },
            ],
            next_cursor: null,
          })
        : undefined,
    ).install();
    sessionStore.signIn({ token: "t", isAdmin: false, domain: "team-a", actor: "token:boss", role: "owner" });
    renderApp(<TokensDrawer domain="team-a" onClose={() => undefined} />);
    // Its own row is a plain tag; the other token's role is a select that changes it.
    expect((await screen.findByTestId("token-role-tag")).textContent).toBe("owner");
    expect(screen.getAllByTestId("token-role-select")).toHaveLength(1);
    expect(screen.getAllByLabelText("Role of ci").length).toBeGreaterThan(0);
  });
});

describe("workerCommand", () => {
  it("is the command the token modal shows", () => {
    expect(workerCommand({ domain: "team-a", name: "w", secret: "hjt_x_y" })).toBe("API_TOKEN=hjt_x_y WORKER_DOMAIN=team-a hydra-jobs worker");
  });
});
