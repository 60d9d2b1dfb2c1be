// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { AuditPage } from "./AuditPage";
import { actorLook, detailsText } from "./auditText";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function entry(n: number, extra: object = {}) {
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
