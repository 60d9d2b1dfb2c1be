// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { GeneratedJob, ProvidersAnswer } from "../../api/types";
import { generated, NO_PROVIDERS, OPENAI_ONLY } from "../../test/aiFixtures";
import { FakeApi, installDomShims, json } from "../../test/fakeApi";
import { renderApp } from "../../test/render";
import { NewJobPage } from "../JobEditorPage";
import { AiGenerator } from "./AiGenerator";

beforeAll(installDomShims);
// The job form's script editor is imported lazily: load it up front, not inside a test's time.
beforeAll(async () => {
  await import("./code/CodeEditor");
}, 60_000);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const BAD_CRON = [{ loc: ["schedule", "cron"], msg: "Value error, invalid cron expression '61 * * * *'", type: "value_error" }];

function server(providers: ProvidersAnswer, draft: GeneratedJob = generated()) {
  return new FakeApi((r) => {
    if (r.path === "/api/v1/ai/providers") return json(200, providers);
    if (r.path === "/api/v1/ai/generate") return json(200, draft);
    if (r.path === "/api/v1/jobs/validate") {
      const cron = (r.body as { schedule?: { cron?: string } }).schedule?.cron;
      return json(200, cron === "61 * * * *" ? { valid: false, errors: BAD_CRON, next_fires: [] } : { valid: true, errors: [], next_fires: [] });
    }
    if (r.path === "/api/v1/schedules/preview") {
      return r.query.get("cron") === "61 * * * *" ? json(422, { detail: [{ loc: ["query", "cron"], msg: "Value error, invalid cron expression '61 * * * *'", type: "value_error" }] }) : json(200, { cron: r.query.get("cron"), timezone: "UTC", fires: [] });
    }
    return undefined;
  }).install();
}

async function generate(prompt: string) {
  fireEvent.change(await screen.findByTestId("ai-prompt"), { target: { value: prompt } });
  fireEvent.click(screen.getByTestId("ai-generate"));
}

describe("AiGenerator", () => {
  it("with no provider configured, names the variables instead of offering a button", async () => {
    server(NO_PROVIDERS);
    renderApp(<AiGenerator onDraft={() => undefined} />);
    const note = await screen.findByTestId("ai-not-configured");
    expect(note.textContent).toContain("GEMINI_API_KEY");
    expect(note.textContent).toContain("OPENAI_API_KEY");
    expect(screen.queryByTestId("ai-generate")).toBeNull();
  });

  it("says so when the admin turned AI off for the domain", async () => {
    server({ ...OPENAI_ONLY, enabled: false });
    renderApp(<AiGenerator onDraft={() => undefined} />);
    expect(await screen.findByTestId("ai-disabled")).toBeTruthy();
    expect(screen.queryByTestId("ai-generate")).toBeNull();
  });

  it("sends the prompt, the configured provider and the user's timezone, and hands over the draft", async () => {
    const api = server(OPENAI_ONLY);
    const onDraft = vi.fn();
    renderApp(<AiGenerator onDraft={onDraft} />);
    await generate("  every night at 2 Berlin time, the report ");
    await waitFor(() => expect(onDraft).toHaveBeenCalledWith(generated().spec));
    expect(api.to("/api/v1/ai/generate", "POST")[0]?.body).toEqual({
      prompt: "every night at 2 Berlin time, the report",
      provider: "openai",
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    expect(screen.getByTestId("ai-draft-valid").textContent).toContain("not saved");
    expect(screen.getByTestId("ai-explanation").textContent).toBe("Runs the report at 02:00 Berlin time.");
    // Shown in the schedule's timezone: 01:00 UTC is 02:00 in Berlin.
    const fires = screen.getAllByTestId("ai-next-fire").map((f) => f.textContent ?? "");
    expect(fires).toHaveLength(2);
    expect(fires[0]).toMatch(/Dec 06, 2026, 02:00/);
  });

  it("shows the 503 that names the variables when the server has no provider after all", async () => {
    new FakeApi((r) =>
      r.path === "/api/v1/ai/providers" ? json(200, OPENAI_ONLY) : json(503, { detail: "no AI provider is configured: set GEMINI_API_KEY or OPENAI_API_KEY" }),
    ).install();
    renderApp(<AiGenerator onDraft={() => undefined} />);
    await generate("anything");
    expect((await screen.findByTestId("error-alert")).textContent).toContain("GEMINI_API_KEY or OPENAI_API_KEY");
  });
});

describe("the generator in the new-job form", () => {
  it("loads the draft into form and JSON, shows its errors at their fields, and never saves by itself", async () => {
    const draft = generated({
      spec: { name: "every-minute", executor: { type: "shell", script: "date" }, schedule: { cron: "61 * * * *" } },
      valid: false,
      errors: BAD_CRON,
      next_fires: [],
      attempts: 3,
    });
    const api = server(OPENAI_ONLY, draft);
    renderApp(<NewJobPage />, { path: "/jobs/new" });
    await generate("every minute print the date");
    await waitFor(() => expect(screen.getByTestId<HTMLInputElement>("job-name").value).toBe("every-minute"), { timeout: 5_000 });
    expect(screen.getByTestId<HTMLInputElement>("cron-input").value).toBe("61 * * * *");
    expect(JSON.parse(screen.getByTestId<HTMLTextAreaElement>("spec-json").value)).toEqual(draft.spec);
    expect(screen.getByTestId("ai-draft-invalid").textContent).toContain("1 problem");
    expect(screen.getByTestId("ai-usage").textContent).toContain("3 attempts");
    expect((await screen.findByTestId("error-cron", {}, { timeout: 5_000 })).textContent).toContain("invalid cron expression");
    expect(api.to("/api/v1/jobs", "POST")).toHaveLength(0);
  }, 30_000); // its waits are 5 s each: the default 5 s for the whole test failed on a loaded machine
});
