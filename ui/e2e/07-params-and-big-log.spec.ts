import { expect, jobName, test } from "./fixtures";

test("run now asks for the job's parameters and passes them", async ({ app, hydra }) => {
  const page = app;
  const job = await hydra.createJob({
    name: jobName("e2e-params"),
    script: 'echo "hello $HYDRA_PARAM_WHO"',
    params: { who: { default: "world" } },
  });
  await page.goto(`/jobs/${job.id}`);
  await page.getByTestId("run-now").click();
  await expect(page.getByTestId("param-who")).toHaveValue("world");
  await page.getByTestId("param-who").fill("operators");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByTestId("run-detail")).toBeVisible();
  await expect(page.getByTestId("log-viewer")).toContainText("hello operators");
  await expect(page.getByTestId("run-params")).toContainText("who=operators");
});

test("a 100,000-line log stays virtualised: few DOM rows, jump to the end, search", async ({ app, hydra }) => {
  const page = app;
  const job = await hydra.createJob({ name: jobName("e2e-big"), script: "seq 1 100000 | sed 's/^/row-/'" });
  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  await expect(page.getByTestId("run-detail").getByTestId("run-status").first()).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("log-line-count")).toHaveText(/100,000 lines/, { timeout: 30_000 });
  // Only a window of rows is in the DOM.
  expect(await page.getByTestId("log-line").count()).toBeLessThan(200);
  // Finished logs open at the end.
  await expect(page.locator('[data-testid="log-line"][data-line="100000"]')).toContainText("row-100000");
  // Search jumps to a match far up.
  await page.getByTestId("log-search").fill("row-4242");
  await expect(page.getByTestId("log-match-count")).toHaveText("1 / 11 lines");
  await expect(page.locator('[data-testid="log-line"][data-line="4242"]')).toContainText("row-4242");
  await page.getByTestId("log-search").press("Enter");
  await expect(page.getByTestId("log-match-count")).toHaveText("2 / 11 lines");
  await expect(page.locator('[data-testid="log-line"][data-line="42420"]')).toBeVisible();
});
