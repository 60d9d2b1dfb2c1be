import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, jobName, screenshot, test } from "./fixtures";

test("the editor previews cron fires, shows server errors at the field and syncs JSON both ways", async ({ app }) => {
  const page = app;
  await page.goto("/jobs/new");
  await page.getByTestId("job-name").fill("preview only");
  await page.getByTestId("schedule-kind").getByText("Cron").click();
  await page.getByTestId("cron-input").fill("*/5 * * * *");
  await expect(page.getByTestId("cron-words")).toHaveText("Every 5 minutes");
  await expect(page.getByTestId("next-fire")).toHaveCount(5);

  // A bad cron: the server's message appears under the cron field.
  await page.getByTestId("cron-input").fill("61 * * * *");
  await expect(page.getByTestId("error-cron")).toBeVisible();
  // A missing script is reported at the script field.
  await expect(page.getByTestId("error-script")).toBeVisible();

  // Form → JSON.
  await page.getByTestId("cron-input").fill("0 2 * * *");
  await expect(page.getByTestId("spec-json")).toHaveValue(/"cron": "0 2 \* \* \*"/);

  // JSON → form.
  const json = JSON.parse(await page.getByTestId("spec-json").inputValue()) as Record<string, unknown>;
  json.name = "from-json";
  json.executor = { type: "shell", script: "echo from json" };
  await page.getByTestId("spec-json").fill(JSON.stringify(json, null, 2));
  await expect(page.getByTestId("job-name")).toHaveValue("from-json");
  await expect(page.getByTestId("job-script")).toHaveText("echo from json");
  await expect(page.getByTestId("spec-valid")).toBeVisible();

  // The AI generator offers the provider the server has (OpenAI, pointed at the stand-in).
  await expect(page.getByTestId("ai-provider")).toContainText("OpenAI");
  await screenshot(page, "job-editor", { fullPage: true });
});

test.describe("the Magic Job Generator", () => {
  test.use({ timezoneId: "Europe/Berlin" });

  test("generate a draft, fix what validation found, and save it: nothing is saved before", async ({ app, hydra }) => {
    const page = app;
    const name = jobName("e2e-ai");
    await page.goto("/jobs/new");
    await page.getByTestId("ai-prompt").fill("every night at 2 the report for today, with a broken cron");
    await page.getByTestId("ai-generate").click();

    // The draft is in the form and the JSON, its validation errors at their fields.
    await expect(page.getByTestId("ai-draft-invalid")).toBeVisible();
    await expect(page.getByTestId("job-name")).toHaveValue("nightly-report");
    await expect(page.getByTestId("cron-input")).toHaveValue("61 * * * *");
    await expect(page.getByTestId("spec-json")).toHaveValue(/\$HYDRA_PARAM_DAY/);
    await expect(page.getByTestId("error-cron")).toBeVisible();
    await expect(page.getByTestId("ai-usage")).toContainText("3 attempts");
    // The browser's timezone went to the model with the prompt.
    const sent = (await (await fetch(`${process.env.HYDRA_E2E_OPENAI_URL ?? ""}/requests`)).json()) as string[];
    const prompts = sent.map((body) => (JSON.parse(body) as { messages: { content: string }[] }).messages.map((m) => m.content).join("\n"));
    expect(prompts.some((p) => p.includes("broken cron") && p.includes('"user_timezone": "Europe/Berlin"'))).toBe(true);
    expect(await hydra.jobNames()).not.toContain("nightly-report");
    await screenshot(page, "ai-draft", { fullPage: true });

    // Edit: fix the cron, name it; the next fires show; then save (the user's act).
    await page.getByTestId("cron-input").fill("0 2 * * *");
    await page.getByTestId("job-name").fill(name);
    await expect(page.getByTestId("spec-valid")).toBeVisible();
    await expect(page.getByTestId("next-fire")).toHaveCount(5);
    await page.getByTestId("save-job").click();
    await expect(page.getByTestId("job-detail")).toBeVisible();
    await expect(page.getByRole("heading", { name })).toBeVisible();
    await expect(page.getByTestId("job-schedule")).toContainText("(Europe/Berlin)");
    expect(await hydra.jobNames()).toContain(name);
  });
});

test("create a job in the form, run it and watch its log live until it succeeds", async ({ app }) => {
  const page = app;
  const name = jobName("e2e-live");
  await page.goto("/jobs");
  await page.getByTestId("new-job").click();
  await page.getByTestId("job-name").fill(name);
  // The job holds after line 2 until the test lets it go: "still running" is a fact, not a
  // race against a sleep (under load the first line reached the page after a 2.5 s job ended).
  const gate = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-e2e-"));
  fs.chmodSync(gate, 0o755); // the job may run as another user (HYDRA_RUN_AS under root)
  const go = path.join(gate, "go");
  await page
    .getByTestId("job-script")
    .fill(`echo line-1; echo line-2; while [ ! -e ${go} ]; do sleep 0.05; done; for i in 3 4 5; do echo line-$i; done`);
  await expect(page.getByTestId("spec-valid")).toBeVisible();
  await page.getByTestId("save-job").click();

  await expect(page.getByTestId("job-detail")).toBeVisible();
  await expect(page.getByRole("heading", { name })).toBeVisible();
  await page.getByTestId("run-now").click();

  await expect(page.getByTestId("run-detail")).toBeVisible();
  const log = page.getByTestId("log-viewer");
  const status = page.getByTestId("run-detail").getByTestId("run-status").first();
  // Live: the first lines arrive while the run is still running.
  await expect(log).toContainText("line-1");
  await expect(status).toHaveAttribute("data-status", "running");
  await expect(log).toContainText("line-2");
  await screenshot(page, "run-live", { docs: "run-live.png" });
  fs.writeFileSync(go, "");
  await expect(log).toContainText("line-5");
  await expect(status).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("exit-code")).toHaveText("0");
  await expect(page.getByTestId("log-line")).toHaveCount(5);
  await expect(page.getByTestId("timeline-finished")).not.toContainText("waiting");
  await screenshot(page, "run-succeeded", { fullPage: true });

  // Search highlights and counts matching lines.
  await page.getByTestId("log-search").fill("line-3");
  await expect(page.getByTestId("log-match-count")).toHaveText("1 / 1 line");
  await expect(log.locator("mark.log-hit")).toHaveText("line-3");
});
