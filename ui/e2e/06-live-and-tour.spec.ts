import { expect, jobName, screenshot, test } from "./fixtures";

test("lists update live from the event stream, without reloading", async ({ app, hydra }) => {
  const page = app;
  await page.goto("/jobs");
  await expect(page.getByTestId("jobs-table")).toBeVisible();
  const name = jobName("e2e-appears");
  const job = await hydra.createJob({ name, script: "echo hi" });
  const row = page.getByTestId("jobs-table").locator("tr", { hasText: name });
  await expect(row).toBeVisible();
  await hydra.runJob(job.id);
  await expect(row.getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
});

test("tour of the main pages, with screenshots", async ({ app, hydra }) => {
  const page = app;
  // Some history for the charts.
  const ok = await hydra.createJob({ name: jobName("tour-report"), script: "echo report; sleep 0.3" });
  const bad = await hydra.createJob({ name: jobName("tour-flaky"), script: "echo flaky; exit 1" });
  for (let i = 0; i < 3; i++) await hydra.runJob(ok.id);
  await hydra.runJob(bad.id);

  await page.goto("/runs");
  await expect(page.getByTestId("run-table").locator("tr[data-row-key]").first()).toBeVisible();
  await screenshot(page, "runs");

  await page.goto("/jobs");
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: bad.name }).getByTestId("run-status")).toHaveAttribute("data-status", "failed");
  await screenshot(page, "jobs");

  await page.goto(`/jobs/${ok.id}`);
  await expect(page.getByTestId("duration-chart")).toBeVisible();
  await screenshot(page, "job-detail", { fullPage: true });

  await page.goto("/");
  await expect(page.getByTestId("stat-failed")).not.toContainText(/^Failed \/ timed out \/ lost\s*0$/);
  await expect(page.getByTestId("runs-per-hour")).toBeVisible();
  await screenshot(page, "dashboard", { fullPage: true, docs: "dashboard.png" });
});
