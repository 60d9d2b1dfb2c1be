// @vitest-environment jsdom
import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobVersion, JobVersionSummary } from "../api/types";
import { sessionStore } from "../auth/session";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { makeJob } from "../test/jobFixtures";
import { renderApp } from "../test/render";
import { WaitingTag } from "../common/WaitingReason";
import { changeWords, JobHistory } from "./JobHistory";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStore.signOut();
});

function summary(version: number, change: JobVersionSummary["change"], actor: string, restored_from: number | null = null): JobVersionSummary {
  return { job_id: "job-1", domain: "default", version, change, actor, at: "2026-12-01T10:00:00Z", restored_from };
}

function full(version: number, script: string): JobVersion {
  return {
    ...summary(version, version === 1 ? "create" : "update", "admin"),
    spec: { name: "job", executor: { type: "shell", script }, catchup: "none" } as JobVersion["spec"],
  };
}

const HISTORY = [summary(3, "restore", "token:ops", 1), summary(2, "update", "token:ci"), summary(1, "create", "admin")];
const SPECS: Record<string, JobVersion> = { "1": full(1, "echo one"), "2": full(2, "echo two"), "3": full(3, "echo one") };

function fakeServer(): FakeApi {
  return new FakeApi((r) => {
    if (r.path === "/api/v1/jobs/job-1/versions") return json(200, { items: HISTORY, next_cursor: null });
    const one = /^\/api\/v1\/jobs\/job-1\/versions\/(\d+)$/.exec(r.path);
    if (one && r.method === "GET") return json(200, SPECS[one[1] ?? ""]);
    if (r.path === "/api/v1/jobs/job-1/versions/2/restore" && r.method === "POST") return json(200, makeJob({ version: 4 }));
    return undefined;
  }).install();
}

describe("JobHistory", () => {
  it("words how a version came to be", () => {
    expect(changeWords(summary(3, "restore", "a", 1))).toBe("restore of v1");
    expect(changeWords(summary(2, "import", "a"))).toBe("import");
  });

  it("lists the versions with who and how, marks the current one, and diffs a version with the one before", async () => {
    const api = fakeServer();
    renderApp(<JobHistory job={makeJob({ version: 3 })} />);
    const history = await screen.findByTestId("job-history");
    await within(history).findByText("token:ci");
    const rows = within(history).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      expect.stringMatching(/^v3current.*restore of v1.*token:ops/),
      expect.stringMatching(/^v2update.*token:ci/),
      expect.stringMatching(/^v1create.*admin/),
    ]);
    expect(screen.queryByTestId("restore-version-3")).toBeNull(); // the current one
    fireEvent.click(screen.getByTestId("show-diff-2"));
    const diff = await screen.findByTestId("version-diff-2");
    const removed = [...diff.querySelectorAll('[data-kind="removed"]')].map((n) => n.textContent);
    const added = [...diff.querySelectorAll('[data-kind="added"]')].map((n) => n.textContent);
    expect(removed).toEqual([expect.stringContaining('"script": "echo one"')]);
    expect(added).toEqual([expect.stringContaining('"script": "echo two"')]);
    expect(api.to("/api/v1/jobs/job-1/versions/1")).toHaveLength(1);
    expect(api.to("/api/v1/jobs/job-1/versions/2")).toHaveLength(1);
  }, 20_000);

  it("restores a version only after it is confirmed", async () => {
    const api = fakeServer();
    renderApp(<JobHistory job={makeJob({ version: 3 })} />);
    fireEvent.click(await screen.findByTestId("restore-version-2"));
    expect(api.to("/api/v1/jobs/job-1/versions/2/restore", "POST")).toHaveLength(0);
    fireEvent.click(await screen.findByTestId("confirm-restore"));
    await vi.waitFor(() => expect(api.to("/api/v1/jobs/job-1/versions/2/restore", "POST")).toHaveLength(1));
    expect(await screen.findByText("Restored version 2: now version 4")).toBeTruthy();
  }, 20_000);

  it("offers no restore to a token below editor (the server would refuse it)", async () => {
    fakeServer();
    sessionStore.signIn({ token: "t", isAdmin: false, domain: "default", actor: "token:o", role: "operator" });
    renderApp(<JobHistory job={makeJob({ version: 3 })} />);
    await within(await screen.findByTestId("job-history")).findByText("token:ci");
    expect(screen.getByTestId("show-diff-2")).toBeTruthy();
    expect(screen.queryByTestId("restore-version-2")).toBeNull();
  }, 20_000);

  it("says why runs of a job would wait, and nothing when they would not", () => {
    renderApp(
      <>
        <WaitingTag reason="no online worker in domain default has os=windows" />
        <WaitingTag reason={null} />
      </>,
    );
    expect(screen.getAllByTestId("job-waiting")).toHaveLength(1);
  });
});
