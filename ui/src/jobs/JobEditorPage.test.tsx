// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { job } from "../test/aiFixtures";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { EditJobPage } from "./JobEditorPage";

beforeAll(installDomShims);
// The job form's script editor is imported lazily: load it up front, not inside a test's time.
beforeAll(async () => {
  await import("./form/code/CodeEditor");
}, 60_000);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("a suggested change in the job editor", () => {
  it("opens applied with its diff, and is saved only when the user saves", async () => {
    const api = new FakeApi((r) => {
      if (r.path === "/api/v1/jobs/job-1" && r.method === "GET") return json(200, job());
      if (r.path === "/api/v1/jobs/job-1" && r.method === "PUT") return json(200, job({ timeout_seconds: 120 }));
      if (r.path === "/api/v1/jobs/validate") return json(200, { valid: true, errors: [], next_fires: [] });
      return undefined;
    }).install();
    renderApp(
      <Routes>
        <Route path="/jobs/:id/edit" element={<EditJobPage />} />
        <Route path="/jobs/:id" element={<div data-testid="saved" />} />
      </Routes>,
      { path: "/jobs/job-1/edit", state: { suggestion: { patch: { timeout_seconds: 120 }, runId: "run-1" } } },
    );
    const notice = await screen.findByTestId("suggestion-notice");
    expect(notice.textContent).toContain("Nothing is saved until you press Save");
    const changed = [...notice.querySelectorAll("[data-kind=removed], [data-kind=added]")].map((l) => l.textContent?.trim());
    expect(changed).toEqual(['-   "timeout_seconds": 60,', '+   "timeout_seconds": 120,']);
    expect(JSON.parse(screen.getByTestId<HTMLTextAreaElement>("spec-json").value)).toMatchObject({ timeout_seconds: 120 });
    await waitFor(() => expect(api.to("/api/v1/jobs/validate", "POST").length).toBeGreaterThan(0), { timeout: 5_000 });
    expect(api.to("/api/v1/jobs/job-1", "PUT")).toHaveLength(0);

    fireEvent.click(screen.getByTestId("save-job"));
    await screen.findByTestId("saved", {}, { timeout: 10_000 });
    expect(api.to("/api/v1/jobs/job-1", "PUT")[0]?.body).toMatchObject({ name: "reader", timeout_seconds: 120 });
  }, 30_000); // it waits up to 5 s for validation: more than the default 5 s for the whole test

  it("ignores a state that is not a suggestion", async () => {
    new FakeApi((r) => (r.path === "/api/v1/jobs/job-1" ? json(200, job()) : json(200, { valid: true, errors: [], next_fires: [] }))).install();
    renderApp(
      <Routes>
        <Route path="/jobs/:id/edit" element={<EditJobPage />} />
      </Routes>,
      { path: "/jobs/job-1/edit", state: { suggestion: { patch: "rm -rf /" } } },
    );
    await screen.findByTestId("job-editor");
    expect(screen.queryByTestId("suggestion-notice")).toBeNull();
    expect(JSON.parse(screen.getByTestId<HTMLTextAreaElement>("spec-json").value)).toMatchObject({ timeout_seconds: 60 });
  });
});
