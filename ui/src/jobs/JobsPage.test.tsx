// @vitest-environment jsdom
import { cleanup, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionStore } from "../auth/session";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { makeJob } from "../test/jobFixtures";
import { renderApp } from "../test/render";
import { JobDetailPage } from "./JobDetailPage";
import { JobsPage } from "./JobsPage";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

const SCHEDULED = makeJob({ id: "job-cron", name: "nightly", schedule: { cron: "0 3 * * *", timezone: "UTC" }, next_fire_at: "2026-12-06T03:00:00Z" });
const MANUAL = makeJob({ id: "job-manual", name: "hello", description: "Says hello" });
const PAUSED_MANUAL = makeJob({ id: "job-paused", name: "old", paused: true });

function serve() {
  return new FakeApi((r) => {
    if (r.path === "/api/v1/jobs") return json(200, { items: [SCHEDULED, MANUAL, PAUSED_MANUAL], next_cursor: null });
    const job = [SCHEDULED, MANUAL, PAUSED_MANUAL].find((j) => r.path === `/api/v1/jobs/${j.id}`);
    if (job) return json(200, job);
    return json(200, { items: [], next_cursor: null });
  }).install();
}

function row(name: string): HTMLElement {
  const link = screen.getAllByTestId("job-link").find((a) => a.textContent === name);
  const tr = link?.closest("tr");
  if (!tr) throw new Error(`no row for ${name}`);
  return tr;
}

describe("JobsPage by role", () => {
  const buttons = (name: string) => ["run-now", "pause-job", "edit-job", "delete-job"].filter((id) => within(row(name)).queryByTestId(id));
  it("offers a viewer no action, an operator Run now and Pause, an editor everything", async () => {
    serve();
    sessionStore.signIn({ token: "t", isAdmin: false, domain: "default", actor: "token:v", role: "viewer" });
    renderApp(<JobsPage />, { path: "/jobs" });
    await screen.findAllByTestId("job-link");
    expect(buttons("nightly")).toEqual([]);
    expect(screen.queryByTestId("new-job")).toBeNull();
    cleanup();

    sessionStore.signIn({ token: "t", isAdmin: false, domain: "default", actor: "token:o", role: "operator" });
    renderApp(<JobsPage />, { path: "/jobs" });
    await screen.findAllByTestId("job-link");
    expect(buttons("nightly")).toEqual(["run-now", "pause-job"]);
    expect(screen.queryByTestId("new-job")).toBeNull();
    cleanup();

    sessionStore.signIn({ token: "t", isAdmin: false, domain: "default", actor: "token:e", role: "editor" });
    renderApp(<JobsPage />, { path: "/jobs" });
    await screen.findAllByTestId("job-link");
    expect(buttons("nightly")).toEqual(["run-now", "pause-job", "edit-job", "delete-job"]);
    expect(screen.getByTestId("new-job")).toBeTruthy();
  }, 30_000);
});

describe("JobsPage", () => {
  it("shows a description as its own line under the name, not glued to it", async () => {
    serve();
    renderApp(<JobsPage />, { path: "/jobs" });
    await screen.findAllByTestId("job-link");
    const desc = within(row("hello")).getByTestId("job-desc");
    expect(desc.textContent).toBe("Says hello");
    expect(desc.tagName).toBe("DIV");
    expect(desc.getAttribute("title")).toBe("Says hello");
    // The name's link holds the name only.
    expect(within(row("hello")).getByTestId("job-link").textContent).toBe("hello");
  });

  it("offers Pause only for a job with a schedule (and Resume for one paused before)", async () => {
    serve();
    renderApp(<JobsPage />, { path: "/jobs" });
    await screen.findAllByTestId("job-link");
    expect(within(row("nightly")).queryByTestId("pause-job")).not.toBeNull();
    expect(within(row("hello")).queryByTestId("pause-job")).toBeNull();
    expect(within(row("hello")).queryByTestId("resume-job")).toBeNull();
    expect(within(row("hello")).queryByTestId("run-now")).not.toBeNull();
    expect(within(row("old")).queryByTestId("resume-job")).not.toBeNull();
  });
});

describe("JobDetailPage", () => {
  const page = (id: string) =>
    renderApp(
      <Routes>
        <Route path="/jobs/:id" element={<JobDetailPage />} />
      </Routes>,
      { path: `/jobs/${id}` },
    );

  it("has no Pause for a manual-only job", async () => {
    serve();
    page("job-manual");
    await screen.findByTestId("job-detail");
    expect(screen.queryByTestId("pause-job")).toBeNull();
    expect(screen.getByTestId("run-now")).toBeTruthy();
  });

  it("has Pause for a scheduled job", async () => {
    serve();
    page("job-cron");
    await screen.findByTestId("job-detail");
    expect(screen.getByTestId("pause-job").textContent).toContain("Pause");
  });
});
