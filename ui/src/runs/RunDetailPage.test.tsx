// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { Route, Routes, useNavigate } from "react-router";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { qk } from "../api/queryKeys";
import type { Run } from "../api/types";
import { NO_PROVIDERS } from "../test/aiFixtures";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { makeJob } from "../test/jobFixtures";
import { renderApp, testQueryClient } from "../test/render";
import { RunDetailPage } from "./RunDetailPage";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function failedRun(id: string, jobName: string): Run {
  const job = makeJob({ name: jobName });
  return {
    id,
    job_id: job.id,
    job_name: jobName,
    domain: "default",
    status: "failed",
    trigger: "manual",
    created_at: "2026-12-05T09:00:00Z",
    finished_at: "2026-12-05T09:00:01Z",
    exit_code: 1,
    spec: { name: job.name, executor: job.executor },
  } as Run;
}

function GoTo({ path }: { path: string }) {
  const navigate = useNavigate();
  return (
    <button type="button" onClick={() => void navigate(path)} data-testid="go">
      go
    </button>
  );
}

describe("RunDetailPage", () => {
  it("an Analyze failure's error on run A does not show on run B", async () => {
    // Run B is in the cache already (seen before, or from the live stream): its page shows at once.
    const client = testQueryClient();
    client.setQueryData(qk.run("run-b"), failedRun("run-b", "job-of-b"));
    new FakeApi((r) => {
      if (r.path === "/api/v1/ai/providers") return json(200, NO_PROVIDERS);
      if (r.path === "/api/v1/runs/run-a") return json(200, failedRun("run-a", "job-of-a"));
      if (r.path === "/api/v1/runs/run-b") return json(200, failedRun("run-b", "job-of-b"));
      if (r.path.endsWith("/analysis")) return json(200, null);
      if (r.path === "/api/v1/runs/run-a/analyze") return json(502, { detail: "the model did not answer" });
      return undefined;
    }).install();
    renderApp(
      <Routes>
        <Route
          path="/runs/:id"
          element={
            <>
              <RunDetailPage />
              <GoTo path="/runs/run-b" />
            </>
          }
        />
      </Routes>,
      { path: "/runs/run-a", client },
    );
    const analyze = await screen.findByTestId("analyze-run");
    await waitFor(() => expect(analyze.hasAttribute("disabled")).toBe(false));
    fireEvent.click(analyze);
    await waitFor(() => expect(screen.getByTestId("analyze-failure").textContent).toContain("the model did not answer"));

    fireEvent.click(screen.getByTestId("go"));
    await waitFor(() => expect(screen.getByTestId("run-detail").textContent).toContain("job-of-b"));
    await waitFor(() => expect(screen.getByTestId("analyze-run").hasAttribute("disabled")).toBe(false));
    expect(screen.getByTestId("analyze-failure").textContent).not.toContain("the model did not answer");
  });
});
