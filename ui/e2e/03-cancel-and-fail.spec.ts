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

  // The AI analysis place answers "not available" today.
  await page.getByTestId("analyze-run").click();
  await expect(page.getByTestId("analyze-failure").getByTestId("not-available")).toBeVisible();
  await screenshot(page, "run-failed", { fullPage: true });

  await page.getByTestId("retry-run").click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${run.id}$`));
  await expect(page.getByTestId("attempt-chain")).toContainText("#1");
  await expect(page.getByTestId("attempt-chain")).toContainText("#2");
  await expect(page.getByTestId("exit-code")).toHaveText("3");
});
