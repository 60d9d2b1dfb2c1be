/**
 * Token roles in the browser: a viewer token sees jobs, runs and workers but is offered no action
 * it may not take (no New job, Run now, Pause, Edit, Delete, Cancel, Retry, Drain); an operator
 * gets Run now but still no Edit or Delete. The server refuses them anyway (the route matrix);
 * this is what the UI offers.
 */
import { expect, jobName, signIn, test } from "./fixtures";

test("a viewer token sees no Run or Delete buttons; an operator runs but cannot delete", async ({ page, hydra, dialogs }) => {
  test.setTimeout(120_000);
  const name = jobName("roles");
  const job = await hydra.createJob({ name, script: "echo seen", schedule: { cron: "0 3 * * *" } });
  const run = await hydra.runJob(job.id);
  const viewer = await hydra.createToken("default", `${name}-viewer`, "viewer");
  const operator = await hydra.createToken("default", `${name}-operator`, "operator");

  await page.goto("/jobs");
  await signIn(page, viewer);
  await expect(page.getByTestId("session-role")).toHaveText("viewer");
  const row = page.getByTestId("jobs-page").locator("tr", { hasText: name });
  await expect(row).toBeVisible();
  for (const id of ["run-now", "pause-job", "edit-job", "delete-job"]) await expect(row.getByTestId(id)).toHaveCount(0);
  await expect(page.getByTestId("new-job")).toHaveCount(0);

  await page.goto(`/jobs/${job.id}`);
  await expect(page.getByText(name).first()).toBeVisible();
  for (const id of ["run-now", "pause-job", "edit-job", "delete-job"]) await expect(page.getByTestId(id)).toHaveCount(0);
  await expect(page.getByRole("button", { name: /run now/i })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /delete/i })).toHaveCount(0);

  await page.goto(`/runs/${run.id}`);
  await expect(page.getByTestId("run-status").first()).toBeVisible();
  await expect(page.getByTestId("retry-run")).toHaveCount(0);
  await expect(page.getByTestId("cancel-run")).toHaveCount(0);

  await page.goto("/workers");
  await expect(page.getByTestId("drain-worker")).toHaveCount(0);
  await expect(page.getByRole("menuitem", { name: "Tokens" })).toHaveCount(0);

  // An operator: Run now and Pause, still no Edit or Delete.
  await page.getByTestId("signout").click();
  await signIn(page, operator);
  await expect(page.getByTestId("session-role")).toHaveText("operator");
  await page.goto(`/jobs/${job.id}`);
  await expect(page.getByRole("button", { name: /run now/i })).toBeVisible();
  await expect(page.getByTestId("pause-job")).toBeVisible();
  await expect(page.getByTestId("edit-job")).toHaveCount(0);
  await expect(page.getByTestId("delete-job")).toHaveCount(0);
  expect(dialogs).toEqual([]);
});
