import { expect, jobName, screenshot, test } from "./fixtures";

test("cancel a long run and see it cancelled", async ({ app, hydra }) => {
  const page = app;
  const job = await hydra.createJob({ name: jobName("e2e-sleep"), script: "echo sleeping; sleep 300" });
  await page.goto(`/jobs/${job.id}`);
  await page.getByTestId("run-now").click();
  await expect(page.getByTestId("run-detail")).toBeVisible();
  const status = page.getByTestId("run-detail").getByTestId("run-status").first();
  await expect(status).toHaveAttribute("data-status", "running");
  await expect(page.getByTestId("log-viewer")).toContainText("sleeping");

  await page.getByTestId("cancel-run").click();
  await page.getByRole("button", { name: "Cancel run" }).click();
  await expect(status).toHaveAttribute("data-status", "cancelled", { timeout: 30_000 });
  await expect(page.getByTestId("cancel-run")).toHaveCount(0);
  await expect(page.getByTestId("retry-run")).toBeVisible();
});

test("a failing run shows exit code 3, and retry makes a linked next attempt", async ({ app, hydra }) => {
  const page = app;
  const job = await hydra.createJob({ name: jobName("e2e-fail"), script: "echo about to fail >&2; exit 3" });
  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  const status = page.getByTestId("run-detail").getByTestId("run-status").first();
  await expect(status).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("exit-code")).toHaveText("3");
  await expect(page.getByTestId("log-viewer")).toContainText("about to fail");

  // Analyze failure asks the configured model by default (the OpenAI stand-in here).
  await expect(page.getByTestId("analyze-provider")).toContainText("OpenAI");
  await page.getByTestId("analyze-run").click();
  await expect(page.getByTestId("analysis-provider")).toContainText("OpenAI");
  await expect(page.getByTestId("analysis-summary")).toHaveText("A file the script reads is missing.");
  await screenshot(page, "run-failed", { fullPage: true });

  await page.getByTestId("retry-run").click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${run.id}$`));
  await expect(page.getByTestId("attempt-chain")).toContainText("#1");
  await expect(page.getByTestId("attempt-chain")).toContainText("#2");
  await expect(page.getByTestId("exit-code")).toHaveText("3");
});

test("analyze a failure with the built-in rules and jump to the evidence line in a long log", async ({ app, hydra }) => {
  const page = app;
  // The decisive line (2) is far above the end of a 2,002-line log.
  const job = await hydra.createJob({
    name: jobName("e2e-missing-file"),
    script: "echo starting; cat /nonexistent/input.csv; for i in $(seq 1 2000); do echo noise-$i; done; exit 1",
  });
  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  await expect(page.getByTestId("run-detail").getByTestId("run-status").first()).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("log-line-count")).toContainText("2,002 lines");
  await expect(page.locator("[data-testid=log-line][data-line='2']")).toHaveCount(0); // virtualised away

  await page.getByTestId("analyze-provider").click();
  await page.locator(".ant-select-item-option").filter({ hasText: "Built-in rules" }).click();
  await page.getByTestId("analyze-run").click();
  await expect(page.getByTestId("analysis-category")).toHaveText("Missing file");
  const evidence = page.getByTestId("evidence-link").filter({ hasText: "line 2" });
  await expect(evidence).toBeVisible();
  await expect(page.getByTestId("evidence")).toContainText("/nonexistent/input.csv");

  await evidence.click();
  const line = page.locator("[data-testid=log-line][data-line='2']");
  await expect(line).toBeInViewport();
  await expect(line).toHaveAttribute("data-focused", "true");
  await expect(line).toContainText("No such file or directory");
  await screenshot(page, "run-analysis", { fullPage: true });

  // A revisit shows the stored answer without asking again.
  await page.reload();
  await expect(page.getByTestId("analysis-provider")).toContainText("Built-in rules");
  await expect(page.getByTestId("analyze-run")).toContainText("Analyze again");

  // The job page counts the failures that look alike.
  await hydra.runJob(job.id);
  await page.goto(`/jobs/${job.id}`);
  await expect(page.getByTestId("failure-headline").first()).toContainText(/Failed the same way 2 times since/);
});
