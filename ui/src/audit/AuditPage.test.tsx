// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AuditEntry } from "../api/types";
import { sessionStore } from "../auth/session";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { makeJob } from "../test/jobFixtures";
import { renderApp } from "../test/render";
import { AuditPage } from "./AuditPage";
import { auditQuery, choices, NO_FILTER, withRange } from "./auditFilter";
import { nameIndex, objectName } from "./auditNames";
import { actorLook, detailsText } from "./auditText";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

function entry(n: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return { id: `a${n}`, domain: "team-a", actor: "token:ci", action: "jobs.create_job", object_type: "job", object_id: `job-${n}`, at: "2026-01-01T00:00:00Z", details: {}, ...extra };
}

describe("AuditPage", () => {
  it("pages with the cursor ('load more') and shows time, actor, action and object as text", async () => {
    const api = new FakeApi((r) => {
      if (r.path !== "/api/v1/audit") return undefined;
      if (!r.query.get("cursor")) {
        return json(200, { items: [entry(1, { actor: "admin", action: "<img src=x onerror=alert(1)>", details: { name: "<b>x</b>" } }), entry(2)], next_cursor: "c1" });
      }
      return json(200, { items: [entry(3)], next_cursor: null });
    }).install();
    renderApp(<AuditPage />);

    await waitFor(() => expect(screen.getAllByTestId("audit-action")).toHaveLength(2));
    expect(screen.getAllByTestId("audit-actor").map((e) => e.textContent)).toEqual(["admin", "token:ci"]);
    // Text, never markup.
    expect(screen.getAllByTestId("audit-action")[0]?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getAllByTestId("audit-object")[1]?.textContent).toContain("job-2");

    fireEvent.click(screen.getByTestId("audit-more"));
    await waitFor(() => expect(screen.getAllByTestId("audit-action")).toHaveLength(3));
    expect(api.to("/api/v1/audit").map((r) => r.query.get("cursor"))).toEqual([null, "c1"]);
    expect(screen.queryByTestId("audit-more")).toBeNull();
    expect(screen.getByTestId("audit-end").textContent).toContain("3 entries");
  }, 30_000);
});

/** Opens an antd Select and picks an option by its text. */
async function pick(testId: string, option: string) {
  const select = screen.getByTestId(testId);
  const selector = select.querySelector(".ant-select-selector");
  if (!selector) throw new Error(`${testId} is not a Select`);
  fireEvent.mouseDown(selector);
  const item = await waitFor(() => {
    const found = [...document.querySelectorAll<HTMLElement>(".ant-select-item-option")].find((o) => o.textContent === option);
    if (!found) throw new Error(`no option ${option}`);
    return found;
  });
  fireEvent.click(item);
}

describe("AuditPage names and filters", () => {
  const ENTRIES = [
    entry(1, { actor: "admin", action: "jobs.update_job", object_type: "job", object_id: "job-1", at: new Date().toISOString() }),
    entry(2, { actor: "admin", action: "domains.create_token", object_type: "token", object_id: "tok-1" }),
    entry(3, { actor: "token:ci", action: "jobs.trigger_job", object_type: "run", object_id: "run-9" }),
    entry(4, { actor: "token:ci", action: "jobs.create_job", object_type: "job", object_id: "job-gone", details: { name: "deleted-since" } }),
  ];

  function serve() {
    return new FakeApi((r) => {
      if (r.path === "/api/v1/audit") return json(200, { items: ENTRIES, next_cursor: "more" });
      if (r.path === "/api/v1/jobs") return json(200, { items: [makeJob({ id: "job-1", name: "nightly" })], next_cursor: null });
      if (r.path === "/api/v1/domains/default/tokens") {
        return json(200, { items: [{ id: "tok-1", name: "ci", domain: "default", created_at: "2026-01-01T00:00:00Z", created_by: "admin" }], next_cursor: null });
      }
      return undefined;
    }).install();
  }

  it("names jobs (list) and tokens (admin), keeps the id copyable, and shows the id when it knows no name", async () => {
    sessionStore.signIn({ token: "adm", isAdmin: true, domain: "default", actor: "admin" });
    serve();
    renderApp(<AuditPage />);
    await waitFor(() => expect(screen.getAllByTestId("audit-object-name").map((e) => e.textContent)).toEqual(["nightly", "ci", "deleted-since"]));
    const objects = screen.getAllByTestId("audit-object");
    expect(objects[0]?.querySelector("a")?.getAttribute("href")).toBe("/jobs/job-1");
    expect(objects[0]?.textContent).not.toContain("job-1");
    expect(objects[0]?.querySelector(".ant-typography-copy")).not.toBeNull();
    expect(objects[2]?.textContent).toContain("run-9");
  });

  it("a domain token does not ask for the token list", async () => {
    sessionStore.signIn({ token: "t", isAdmin: false, domain: "team-a", actor: "token:ci" });
    const api = serve();
    renderApp(<AuditPage />);
    await waitFor(() => expect(screen.getAllByTestId("audit-object-name").map((e) => e.textContent)).toEqual(["nightly", "deleted-since"]));
    expect(api.requests.some((r) => r.path.includes("/tokens"))).toBe(false);
  });

  it("asks the server to filter by actor, object type, object id and time, and pages within the filter", async () => {
    // A fake server that filters as the real one does (exact matches, `since` on `at`).
    const api = new FakeApi((r) => {
      if (r.path === "/api/v1/jobs") return json(200, { items: [], next_cursor: null });
      if (r.path !== "/api/v1/audit") return undefined;
      const q = r.query;
      const since = q.get("since");
      const items = ENTRIES.filter(
        (e) =>
          (!q.get("actor") || e.actor === q.get("actor")) &&
          (!q.get("object_type") || e.object_type === q.get("object_type")) &&
          (!q.get("object_id") || e.object_id === q.get("object_id")) &&
          (!since || Date.parse(e.at) >= Date.parse(since)),
      );
      return json(200, { items, next_cursor: null });
    }).install();
    renderApp(<AuditPage />);
    await waitFor(() => expect(screen.getAllByTestId("audit-action")).toHaveLength(4));

    await pick("audit-filter-actor", "token:ci");
    await waitFor(() => expect(screen.getAllByTestId("audit-action").map((e) => e.textContent)).toEqual(["jobs.trigger_job", "jobs.create_job"]));
    expect(api.to("/api/v1/audit").at(-1)?.query.get("actor")).toBe("token:ci");
    expect(screen.getByTestId("audit-match-count").textContent).toBe("2 entries match");

    await pick("audit-filter-type", "job");
    await waitFor(() => expect(screen.getAllByTestId("audit-action").map((e) => e.textContent)).toEqual(["jobs.create_job"]));
    expect(api.to("/api/v1/audit").at(-1)?.query.get("object_type")).toBe("job");

    fireEvent.click(screen.getByTestId("audit-clear-filters"));
    fireEvent.change(screen.getByTestId("audit-filter-id"), { target: { value: "run-9" } });
    await waitFor(() => expect(screen.getAllByTestId("audit-action").map((e) => e.textContent)).toEqual(["jobs.trigger_job"]));
    expect(api.to("/api/v1/audit").at(-1)?.query.get("object_id")).toBe("run-9");

    fireEvent.click(screen.getByTestId("audit-clear-filters"));
    await pick("audit-filter-time", "Last hour");
    await waitFor(() => expect(screen.getAllByTestId("audit-action").map((e) => e.textContent)).toEqual(["jobs.update_job"]));
    const since = api.to("/api/v1/audit").at(-1)?.query.get("since");
    expect(Date.now() - Date.parse(since ?? "")).toBeLessThan(3_600_000 + 60_000);
    await pick("audit-filter-action", "jobs.create_job");
    await waitFor(() => expect(screen.getByText("No entry matches the filters.")).toBeTruthy());
    // No filter is applied in the browser: every filter went to the server.
    expect(api.to("/api/v1/audit").at(-1)?.query.get("action")).toBe("jobs.create_job");
  }, 30_000);
});

describe("audit filters and names (pure)", () => {
  const now = Date.parse("2026-12-05T10:00:00Z");
  const a = entry(1, { actor: "admin", at: "2026-12-05T09:30:00Z" });
  const b = entry(2, { actor: "token:ci", object_type: "token", action: "domains.revoke_token", at: "2026-12-01T00:00:00Z" });
  it("turns the filters into the server's query parameters, only those set", () => {
    expect(auditQuery(NO_FILTER)).toEqual({});
    expect(auditQuery({ ...NO_FILTER, actor: "token:ci", objectType: "token", objectId: " t1 " })).toEqual({ actor: "token:ci", object_type: "token", object_id: "t1" });
    expect(auditQuery({ ...NO_FILTER, action: "jobs.create_job", objectId: "  " })).toEqual({ action: "jobs.create_job" });
    expect(auditQuery(withRange(NO_FILTER, "1h", now))).toEqual({ since: "2026-12-05T09:00:00.000Z" });
    expect(auditQuery(withRange(withRange(NO_FILTER, "1h", now), "any", now))).toEqual({});
    expect(choices([a, b, a], "actor")).toEqual(["admin", "token:ci"]);
    expect(choices([b], "actor", ["admin"])).toEqual(["admin", "token:ci"]);
  });
  it("names an object from the index, else from the name its create recorded, else not at all", () => {
    const names = nameIndex({ jobs: [{ id: "job-1", name: "nightly" }], tokens: [{ id: "t1", name: "ci" }] });
    expect(objectName(entry(1), names)).toBe("nightly");
    expect(objectName(entry(1, { object_type: "token", object_id: "t1" }), names)).toBe("ci");
    // A job id is not a token id: the type is part of the key.
    expect(objectName(entry(1, { object_type: "token", object_id: "job-1" }), names)).toBeNull();
    expect(objectName(entry(7, { details: { name: "old" } }), names)).toBe("old");
    expect(objectName(entry(7, { object_id: null }), names)).toBeNull();
  });
});

describe("audit text", () => {
  it("tells the admin from a named domain token", () => {
    expect(actorLook("admin").color).toBe("gold");
    expect(actorLook("token:ci").hint).toContain("ci");
  });
  it("shows details as JSON text", () => {
    expect(detailsText({ name: "<b>x</b>" })).toBe('{\n  "name": "<b>x</b>"\n}');
    expect(detailsText({})).toBe("");
  });
});
