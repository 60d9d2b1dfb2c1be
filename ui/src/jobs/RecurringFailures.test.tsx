// @vitest-environment jsdom
import { cleanup, screen } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { FailureGroup } from "../api/types";
import { formatDateTime } from "../common/format";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { failureHeadline, RecurringFailures } from "./RecurringFailures";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const GROUP: FailureGroup = {
  fingerprint: "f1",
  category: "missing_file",
  summary: "cat: /nonexistent: No such file or directory",
  count: 3,
  since: "2026-12-01T10:00:00Z",
  latest_run_id: "run-latest1",
  latest_at: "2026-12-05T08:00:00Z",
};

describe("RecurringFailures", () => {
  it("words a group", () => {
    expect(failureHeadline(GROUP)).toBe(`Failed the same way 3 times since ${formatDateTime("2026-12-01T10:00:00Z")}`);
    expect(failureHeadline({ ...GROUP, count: 1 })).toMatch(/^Failed this way once, /);
  });

  it("lists the groups with the latest run, and shows nothing when the job never failed", async () => {
    const api = new FakeApi((r) => (r.path === "/api/v1/jobs/job-1/failures" ? json(200, { items: [GROUP], examined: 5 }) : json(200, { items: [], examined: 0 }))).install();
    renderApp(<RecurringFailures jobId="job-1" />);
    expect((await screen.findByTestId("failure-headline")).textContent).toMatch(/Failed the same way 3 times since/);
    expect(screen.getByTestId("failure-group").querySelector("a")?.getAttribute("href")).toBe("/runs/run-latest1");
    cleanup();
    renderApp(<RecurringFailures jobId="job-2" />);
    await vi.waitFor(() => expect(api.to("/api/v1/jobs/job-2/failures")).toHaveLength(1));
    expect(screen.queryByTestId("recurring-failures")).toBeNull();
  });
});
