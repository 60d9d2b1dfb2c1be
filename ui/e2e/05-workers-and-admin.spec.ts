import { expect, screenshot, test } from "./fixtures";

test("the workers page lists the embedded worker with its slots and heartbeat", async ({ app }) => {
  const page = app;
  await page.goto("/workers");
  const table = page.getByTestId("workers-table");
  await expect(table.getByTestId("worker-name").first()).toBeVisible();
  await expect(table.getByTestId("worker-status").first()).toHaveText("online");
  await expect(table.getByTestId("worker-slots").first()).toContainText("free");
  await expect(table.getByTestId("heartbeat-age").first()).toContainText("ago");
  await screenshot(page, "workers");
});

test("domains admin shows the server's 'not available' message gracefully", async ({ app }) => {
  const page = app;
  await page.goto("/domains");
  await expect(page.getByTestId("domains-page").getByTestId("not-available")).toContainText("not available in this version");
  await page.getByTestId("token-name").fill("ci");
  await page.getByLabel("Domain", { exact: true }).fill("default");
  await page.getByTestId("create-token").click();
  await expect(page.getByTestId("domains-page").getByTestId("not-available")).toHaveCount(2);
  await screenshot(page, "domains");
});
