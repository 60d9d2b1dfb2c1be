import { expect, jobName, test } from "./fixtures";

test("job output is shown as text, never as HTML (I5)", async ({ app, hydra, dialogs }) => {
  const page = app;
  const payload = "<img src=x onerror=alert(1)>";
  const job = await hydra.createJob({
    name: jobName("e2e-xss"),
    script: `echo '${payload}'; printf '\\033[31m<script>alert(2)</script>\\033[0m\\n'`,
  });
  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  const log = page.getByTestId("log-viewer");
  await expect(page.getByTestId("run-detail").getByTestId("run-status").first()).toHaveAttribute("data-status", "succeeded");
  await expect(log).toContainText(payload);
  await expect(log).toContainText("<script>alert(2)</script>");
  await expect(log.locator("img")).toHaveCount(0);
  await expect(log.locator("script")).toHaveCount(0);
  // The ANSI red became a style, not text.
  await expect(log).not.toContainText("[31m");
  expect(dialogs).toEqual([]);
});
