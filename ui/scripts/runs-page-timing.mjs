// The Runs page in headless Chromium against a running server: time from navigation to the first
// rows (warm load: the assets in the browser's cache), and from "Older" to the next page's rows.
// Times are when the rows enter the DOM (a MutationObserver in the page), as the page's own clock
// reads them. Used by bench/runs_page.py, which seeds the runs and starts the server.
//   node scripts/runs-page-timing.mjs URL ADMIN_TOKEN [LOADS] [PAGES]
import { chromium } from "@playwright/test";

const [url, token, loadsArg = "7", pagesArg = "5"] = process.argv.slice(2);
if (!url || !token) throw new Error("usage: runs-page-timing.mjs URL ADMIN_TOKEN [LOADS] [PAGES]");
const ROW = '[data-testid="run-table"] tr.ant-table-row';

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(
    ({ token, row }) => {
      if (!localStorage.getItem("hydra.session"))
        localStorage.setItem("hydra.session", JSON.stringify({ token, isAdmin: true, domain: "default", actor: "admin" }));
      window.__firstRowsAt = null;
      new MutationObserver((_, observer) => {
        if (document.querySelector(row)) {
          window.__firstRowsAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    },
    { token, row: ROW },
  );
  const page = await context.newPage();
  const load = async () => {
    await page.goto(`${url}/runs`);
    await page.waitForFunction(() => window.__firstRowsAt !== null, null, { timeout: 60_000 });
    return page.evaluate(() => {
      // Where the time went: the shell's script run, and the first page of runs asked and answered.
      const runs = performance.getEntriesByType("resource").find((e) => /\/api\/v1\/runs\?/.test(e.name));
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        rows: window.__firstRowsAt,
        domReady: nav?.domContentLoadedEventEnd ?? null,
        runsAsked: runs?.startTime ?? null,
        runsAnswered: runs?.responseEnd ?? null,
      };
    });
  };
  const cold = (await load()).rows;
  const firstRows = [];
  for (let i = 0; i < Number(loadsArg); i++) firstRows.push(await load());

  const nextPages = [];
  for (let i = 0; i < Number(pagesArg); i++) {
    // The page reads the next page ahead; a user reading 50 rows gives it the time it needs.
    await page.waitForSelector('[data-testid="runs-next"]:not([disabled])');
    await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.includes("cursor=")), null, { timeout: 30_000 });
    nextPages.push(
      await page.evaluate(
        (row) =>
          new Promise((resolve) => {
            const first = () => document.querySelector(row)?.getAttribute("data-row-key");
            const before = first();
            const start = performance.now();
            const observer = new MutationObserver(() => {
              if (first() !== before) {
                observer.disconnect();
                resolve(performance.now() - start);
              }
            });
            observer.observe(document.body, { childList: true, subtree: true, attributes: true });
            document.querySelector('[data-testid="runs-next"]').click();
          }),
        ROW,
      ),
    );
    await page.evaluate(() => performance.clearResourceTimings());
  }
  console.log(JSON.stringify({ cold, firstRows: firstRows.map((r) => r.rows), loads: firstRows, nextPages }));
} finally {
  await browser.close();
}
