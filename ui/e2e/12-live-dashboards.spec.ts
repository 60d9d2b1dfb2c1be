import type { Page } from "@playwright/test";
import { expect, jobName, test } from "./fixtures";

const BURST = 300;

/** The number a dashboard card shows ("2,300" -> 2300). */
async function shown(page: Page, card: string): Promise<number> {
  const text = (await page.getByTestId(`stat-${card}`).locator(".ant-statistic-content-value").textContent()) ?? "";
  return Number(text.replace(/[^0-9]/g, ""));
}

test("three open dashboards all converge to the API's numbers after a burst", async ({ app, hydra, request }) => {
  test.setTimeout(180_000);
  const headers = { Authorization: `Bearer ${hydra.token}` };
  const truth = async () => {
    const response = await request.get(`${hydra.url}/api/v1/stats?hours=24`, { headers });
    const counts = ((await response.json()) as { counts: Record<string, number> }).counts;
    const total = Object.values(counts).reduce((a, n) => a + n, 0);
    return { total, succeeded: counts.succeeded ?? 0 };
  };

  const pages = [app, await app.context().newPage(), await app.context().newPage()];
  for (const page of pages) {
    await page.goto("/");
    await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
    await expect(page.getByTestId("stat-total")).toBeVisible();
  }
  const before = await truth();

  const job = await hydra.createJob({ name: jobName("burst"), script: "true" });
  const burst = await request.post(`${hydra.url}/api/v1/jobs/${job.id}/runs/batch`, {
    headers,
    data: { runs: Array.from({ length: BURST }, () => ({ params: {} })) },
  });
  expect(burst.status(), await burst.text()).toBe(202);
  await expect
    .poll(
      async () => {
        const active = await request.get(`${hydra.url}/api/v1/runs?job_id=${job.id}&status=pending&status=queued&status=running&limit=1`, { headers });
        return ((await active.json()) as { items: unknown[] }).items.length;
      },
      { timeout: 120_000, message: "the burst to end" },
    )
    .toBe(0);
  const ended = Date.now();

  // Every page shows the store's numbers, without a reload. The target is 2 s; the deadline has
  // room for a loaded machine, and the time taken is reported.
  await expect
    .poll(
      async () => {
        const want = await truth();
        const seen = await Promise.all(pages.map(async (p) => ({ total: await shown(p, "total"), succeeded: await shown(p, "succeeded") })));
        return seen.every((s) => s.total === want.total && s.succeeded === want.succeeded) && want.total >= before.total + BURST;
      },
      { timeout: 20_000, intervals: [100], message: "every dashboard to show the API's counts" },
    )
    .toBe(true);
  test.info().annotations.push({ type: "converged", description: `${Date.now() - ended} ms after the burst ended` });
});
