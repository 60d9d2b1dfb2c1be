import { expect, jobName, screenshot, test } from "./fixtures";

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

test("domains admin: validation and conflicts at the field, edit, delete (typing the name when it holds jobs)", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-dom").toLowerCase();
  await page.goto("/domains");
  await expect(page.getByTestId("domains-table").locator("tr", { hasText: "default" })).toBeVisible();
  // The default domain cannot be deleted: not even offered.
  await expect(page.getByTestId("domains-table").locator("tr", { hasText: "default" }).getByTestId("delete-domain")).toBeDisabled();

  await page.getByTestId("new-domain").click();
  await page.getByTestId("domain-name").fill("Not Valid");
  await page.getByTestId("domain-form-submit").click();
  await expect(page.getByTestId("domain-form")).toContainText("Lowercase letters, digits");
  // Taken: the server's 409 shows under the name.
  await page.getByTestId("domain-name").fill("default");
  await page.getByTestId("domain-form-submit").click();
  await expect(page.getByTestId("domain-form")).toContainText("domain 'default' already exists");
  await page.getByTestId("domain-name").fill(name);
  await page.getByTestId("domain-description").fill("<b>not bold</b>");
  await page.getByTestId("domain-form-submit").click();
  const row = page.getByTestId("domains-table").locator("tr", { hasText: name });
  await expect(row).toContainText("<b>not bold</b>");

  await row.getByTestId("edit-domain").click();
  await page.getByTestId("domain-description").fill("Edited description");
  await page.getByTestId("domain-form-submit").click();
  await expect(row).toContainText("Edited description");

  // A job in it (admin, X-Hydra-Domain): deleting now takes the job too, so the name must be typed.
  const created = await page.request.post(`${hydra.url}/api/v1/jobs`, {
    headers: { Authorization: `Bearer ${hydra.token}`, "X-Hydra-Domain": name },
    data: { name: "doomed", executor: { type: "shell", script: "true" } },
  });
  expect(created.status()).toBe(201);
  await page.reload();
  await expect(row.getByTestId("domain-jobs")).toHaveText("1");
  await row.getByTestId("delete-domain").click();
  const dialog = page.getByTestId("delete-domain-dialog");
  await expect(dialog.getByTestId("delete-domain-warning")).toContainText("holds 1 job");
  await expect(page.getByTestId("delete-domain-confirm")).toBeDisabled();
  await dialog.getByTestId("delete-domain-typed").fill(name.slice(0, -1));
  await expect(page.getByTestId("delete-domain-confirm")).toBeDisabled();
  await dialog.getByTestId("delete-domain-typed").fill(name);
  await page.getByTestId("delete-domain-confirm").click();
  await expect(row).toHaveCount(0);
});
