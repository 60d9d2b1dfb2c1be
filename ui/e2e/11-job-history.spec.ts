import { expect, jobName, screenshot, test } from "./fixtures";

test("the job page shows the history, the changes of a version, and restores one after asking", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-history");
  const job = await hydra.createJob({ name, script: "echo one" });
  await hydra.replaceJob(job.id, { name, script: "echo two" });

  await page.goto(`/jobs/${job.id}`);
  const history = page.getByTestId("job-history");
  const rows = history.locator("tr[data-row-key]");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("v2");
  await expect(rows.nth(0)).toContainText("current");
  await expect(rows.nth(0)).toContainText("update");
  await expect(rows.nth(1)).toContainText("create");
  await expect(rows.nth(1)).toContainText("admin");

  await history.getByTestId("show-diff-2").click();
  const diff = history.getByTestId("version-diff-2");
  await expect(diff.locator('[data-kind="removed"]')).toContainText('"script": "echo one"');
  await expect(diff.locator('[data-kind="added"]')).toContainText('"script": "echo two"');
  await screenshot(page, "job-history");

  await history.getByTestId("restore-version-1").click();
  await page.getByTestId("confirm-restore").click();
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText("restore of v1");
  await expect(rows.nth(0)).toContainText("current");
  await expect(page.getByTestId("job-script-view")).toHaveText("echo one");

  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  await expect(page.getByTestId("run-job-version")).toHaveText("v3");
});

test("a run whose required tags no online worker has says why it waits, and so does its job", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-routing");
  const job = await hydra.createJob({ name, script: "echo never", requires: { os: "plan9" } });
  const run = await hydra.runJob(job.id);
  try {
    await page.goto(`/runs/${run.id}`);
    await expect(page.getByTestId("waiting-reason")).toContainText("no online worker in domain default has os=plan9");
    await page.goto("/jobs");
    await page.getByTestId("job-search").fill(name);
    const row = page.getByTestId("jobs-table").locator("tr", { hasText: name });
    await expect(row.getByTestId("job-waiting")).toBeVisible();
    await page.goto(`/jobs/${job.id}`);
    await expect(page.getByTestId("job-requires")).toContainText("os=plan9");
    await expect(page.getByTestId("waiting-reason")).toBeVisible();
  } finally {
    await hydra.cancelRun(run.id);
  }
});
