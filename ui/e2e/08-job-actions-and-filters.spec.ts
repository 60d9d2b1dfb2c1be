import { expect, jobName, pickDomain, test } from "./fixtures";

test("pause, resume and delete a job from the jobs table", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-actions");
  // Pausing stops a schedule: only a scheduled job offers it.
  await hydra.createJob({ name, script: "echo hi", schedule: { cron: "0 3 1 1 *" } });
  await page.goto("/jobs");
  await page.getByTestId("job-search").fill(name);
  const row = page.getByTestId("jobs-table").locator("tr", { hasText: name });
  await expect(row.getByTestId("job-state")).toHaveText("active");

  await row.getByTestId("pause-job").click();
  await expect(row.getByTestId("job-state")).toHaveText("paused");
  await row.getByTestId("resume-job").click();
  await expect(row.getByTestId("job-state")).toHaveText("active");

  await row.getByTestId("delete-job").click();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(row).toHaveCount(0);
});

test("the runs page filters by status and job, in the URL", async ({ app, hydra }) => {
  const page = app;
  const good = await hydra.createJob({ name: jobName("e2e-filter-ok"), script: "true" });
  const bad = await hydra.createJob({ name: jobName("e2e-filter-bad"), script: "exit 2" });
  await hydra.runJob(good.id);
  const failed = await hydra.runJob(bad.id);

  await page.goto(`/runs?status=failed&job=${bad.id}`);
  const rows = page.getByTestId("run-table").locator("tr[data-row-key]");
  await expect(rows.first()).toHaveAttribute("data-row-key", failed.id);
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId("run-status")).toHaveAttribute("data-status", "failed");

  await page.goto(`/runs?status=succeeded&job=${good.id}`);
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
});

test("the admin switches domain: data and the live stream follow", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-domain");
  const elsewhere = jobName("e2e-elsewhere").toLowerCase();
  await hydra.createDomain(elsewhere);
  await hydra.createJob({ name, script: "true" });
  await page.goto("/jobs");
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: name })).toBeVisible();

  await pickDomain(page, elsewhere);
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: name })).toHaveCount(0);
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
  expect(await page.evaluate(() => localStorage.getItem("hydra.session"))).toContain(`"domain":"${elsewhere}"`);
  // The stream is the new domain's: a job created there appears without a reload.
  const there = jobName("e2e-there");
  await hydra.createJob({ name: there, script: "true" }, elsewhere);
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: there })).toBeVisible();

  await pickDomain(page, "default");
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: name })).toBeVisible();
  await expect(page.getByTestId("jobs-table").locator("tr", { hasText: there })).toHaveCount(0);
});

test("edit a job: the form loads the saved spec and saving replaces it", async ({ app, hydra }) => {
  const page = app;
  const job = await hydra.createJob({ name: jobName("e2e-edit"), script: "echo before" });
  await page.goto(`/jobs/${job.id}`);
  await page.getByTestId("edit-job").click();
  await expect(page.getByTestId("job-script")).toHaveText("echo before");
  await page.getByTestId("job-script").fill("echo after");
  await expect(page.getByTestId("spec-json")).toHaveValue(/"script": "echo after"/);
  await page.getByTestId("save-job").click();
  await expect(page.getByTestId("job-detail")).toBeVisible();
  await expect(page.getByTestId("job-script-view")).toHaveText("echo after");
});
