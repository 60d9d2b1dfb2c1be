/** Layout at a 900 px wide window (a laptop with a side panel): measured boxes, not looks. */
import type { Locator, Page } from "@playwright/test";
import { expect, jobName, screenshot, test } from "./fixtures";

const WIDTH = 900;
test.use({ viewport: { width: WIDTH, height: 800 } });

async function box(locator: Locator) {
  const b = await locator.boundingBox();
  if (!b) throw new Error("no box: not rendered");
  return b;
}

/** Neither the page nor the element scrolls sideways (polled: antd re-renders on a resize). */
async function expectNoHorizontalOverflow(page: Page, locator: Locator, width = WIDTH) {
  await expect
    .poll(() => locator.evaluate((el) => (el.isConnected && el.clientWidth > 0 ? el.scrollWidth - el.clientWidth : Infinity)), {
      message: "the element overflows horizontally",
    })
    .toBeLessThanOrEqual(0);
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth), { message: "the page overflows horizontally" }).toBeLessThanOrEqual(width);
}

/** The element's text is one line: its box is less than two lines high. */
async function expectOneLine(locator: Locator) {
  await expect(locator).toBeVisible();
  await expect
    .poll(
      () =>
        locator.evaluate((el) => {
          const height = el.getBoundingClientRect().height;
          return el.isConnected && height > 0 ? height / parseFloat(getComputedStyle(el).fontSize) : Infinity;
        }),
      { message: "the value wraps onto a second line (height in font sizes)" },
    )
    .toBeLessThan(2.2);
}

test("the jobs table fits a 900 px window: Run now in view, the description on its own line", async ({ app, hydra }) => {
  const page = app;
  const name = jobName("e2e-narrow");
  await hydra.createJob({
    name,
    script: "true",
    description: "Says hello, and then keeps talking for a good while so that the description is long",
    schedule: { cron: "0 3 1 1 *", timezone: "Europe/Berlin" },
  });
  await page.goto("/jobs");
  await page.getByTestId("job-search").fill(name);
  const table = page.getByTestId("jobs-table");
  const row = table.locator("tr", { hasText: name });
  await expect(row).toHaveCount(1);

  const runNow = await box(row.getByTestId("run-now"));
  const tableBox = await box(table);
  expect(runNow.x).toBeGreaterThanOrEqual(tableBox.x);
  expect(runNow.x + runNow.width).toBeLessThanOrEqual(tableBox.x + tableBox.width);
  expect(runNow.x + runNow.width).toBeLessThanOrEqual(WIDTH);
  for (const id of ["pause-job", "edit-job", "delete-job"]) {
    const b = await box(row.getByTestId(id));
    expect(b.x + b.width, `${id} is cut off`).toBeLessThanOrEqual(tableBox.x + tableBox.width);
  }
  await expectNoHorizontalOverflow(page, table.locator(".ant-table-content"));

  // The description sits under the name, muted, on one line with an ellipsis.
  const link = await box(row.getByTestId("job-link"));
  const desc = row.getByTestId("job-desc");
  expect((await box(desc)).y).toBeGreaterThanOrEqual(link.y + link.height - 1);
  await expectOneLine(desc);
  await screenshot(page, "jobs-900px");
});

test("the run details keep short values on one line, at 900 and 1280 px", async ({ app, hydra }) => {
  const page = app;
  // A queue no worker serves: the run stays queued. A long job name and a long hyphenated queue
  // name compete for the table's width.
  const queue = "ui-deploy-blue-green-canary";
  const job = await hydra.createJob({ name: jobName("e2e-facts-with-a-rather-long-job-name"), script: "true", queue });
  const run = await hydra.runJob(job.id);
  await page.goto(`/runs/${run.id}`);
  const facts = page.getByTestId("run-facts");
  await expect(facts.getByTestId("run-queue")).toHaveText(queue);
  for (const width of [WIDTH, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await expectOneLine(facts.getByTestId("run-queue"));
    await expectOneLine(facts.getByTestId("run-trigger"));
    await expectOneLine(facts.getByRole("link", { name: job.name }));
    await expectNoHorizontalOverflow(page, facts, width);
    await screenshot(page, `run-facts-${width}px`);
  }
});
