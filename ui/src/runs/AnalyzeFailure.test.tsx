// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ProvidersAnswer } from "../api/types";
import { analysis, NO_PROVIDERS, OPENAI_ONLY } from "../test/aiFixtures";
import { FakeApi, installDomShims, json, type SeenRequest } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { AnalyzeFailure, analysisChoices } from "./AnalyzeFailure";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function server(providers: ProvidersAnswer, stored: unknown, answer = analysis()) {
  return new FakeApi((r: SeenRequest) => {
    if (r.path === "/api/v1/ai/providers") return json(200, providers);
    if (r.path === "/api/v1/runs/run-1/analysis") return json(200, stored);
    if (r.path === "/api/v1/runs/run-1/analyze") return json(200, answer);
    return undefined;
  }).install();
}

describe("analysisChoices", () => {
  it("always offers the built-in rules, and models only when configured and enabled", () => {
    expect(analysisChoices(NO_PROVIDERS)).toEqual({ options: [{ value: "heuristic", label: "Built-in rules (no AI)" }], preferred: "heuristic" });
    const withModel = analysisChoices(OPENAI_ONLY);
    expect(withModel.options.map((o) => o.value)).toEqual(["openai", "heuristic"]);
    expect(withModel.preferred).toBe("openai");
    expect(analysisChoices({ ...OPENAI_ONLY, enabled: false }).options.map((o) => o.value)).toEqual(["heuristic"]);
  });
});

describe("AnalyzeFailure", () => {
  it("asks the built-in rules when no model is configured and shows the answer", async () => {
    const api = server(NO_PROVIDERS, null);
    const onEvidence = vi.fn();
    renderApp(<AnalyzeFailure runId="run-1" onEvidence={onEvidence} />);
    const button = await screen.findByTestId("analyze-run");
    await waitFor(() => expect(button.hasAttribute("disabled")).toBe(false));
    expect(button.textContent).toContain("Analyze this run");
    expect(screen.queryByTestId("analysis")).toBeNull();
    fireEvent.click(button);
    await screen.findByTestId("analysis");
    expect(api.to("/api/v1/runs/run-1/analyze", "POST")[0]?.body).toEqual({ provider: "heuristic", force: false });
    fireEvent.click(screen.getAllByTestId("evidence-link")[0] as HTMLElement);
    expect(onEvidence).toHaveBeenCalledWith(2);
  });

  it("shows the stored analysis on a revisit and re-asks only with force", async () => {
    const api = server(OPENAI_ONLY, analysis({ cached: true, provider: "openai", model: "gpt-5-mini" }), analysis({ provider: "openai", summary: "asked again" }));
    renderApp(<AnalyzeFailure runId="run-1" onEvidence={() => undefined} />);
    expect((await screen.findByTestId("analysis-provider")).textContent).toContain("OpenAI (gpt-5-mini)");
    expect(screen.getByTestId("analysis-provider").textContent).toContain("stored answer");
    expect(api.to("/api/v1/runs/run-1/analyze", "POST")).toHaveLength(0);
    const again = screen.getByTestId("analyze-run");
    expect(again.textContent).toContain("Analyze again");
    fireEvent.click(again);
    await waitFor(() => expect(screen.getByTestId("analysis-summary").textContent).toBe("asked again"));
    expect(api.to("/api/v1/runs/run-1/analyze", "POST")[0]?.body).toEqual({ provider: "openai", force: true });
  });

  it("shows the server's refusal in words", async () => {
    new FakeApi((r) => {
      if (r.path === "/api/v1/ai/providers") return json(200, OPENAI_ONLY);
      if (r.path === "/api/v1/runs/run-1/analysis") return json(200, null);
      return json(502, { detail: "OpenAI refused the request (401): invalid key ***" });
    }).install();
    renderApp(<AnalyzeFailure runId="run-1" onEvidence={() => undefined} />);
    const button = await screen.findByTestId("analyze-run");
    await waitFor(() => expect(button.hasAttribute("disabled")).toBe(false));
    fireEvent.click(button);
    expect((await screen.findByTestId("error-alert")).textContent).toContain("OpenAI refused the request (401)");
  });
});
