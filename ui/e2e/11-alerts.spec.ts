/** Alerts: create a webhook channel, send a test and see it in the delivery log; set a rule in the job editor. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, jobName, screenshot, test } from "./fixtures";

interface Hit {
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      hits.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("create a channel, send a test, see it in the delivery log; set a rule in the editor", async ({ app, hydra, request }) => {
  const page = app;
  const hook = await receiver();
  try {
    const channel = jobName("ops").slice(0, 40);
    await page.getByTestId("nav").getByText("Alerts").click();
    await page.getByTestId("new-channel").click();
    await page.getByTestId("channel-name").fill(channel);
    await page.getByTestId("channel-url").fill(hook.url);
    await page.getByTestId("channel-secret").fill("an-e2e-signing-secret-0123456789");
    await page.getByTestId("channel-form-submit").click();
    const row = page.getByTestId("channels-table").locator("tr", { hasText: channel });
    await expect(row).toContainText("set (hidden)");
    await expect(page.getByTestId("channels-table")).not.toContainText("an-e2e-signing-secret");

    await row.getByTestId("test-channel").click();
    const log = page.getByTestId("channel-log");
    await expect(log).toContainText(`Delivery log: ${channel}`);
    await expect(log.locator("tr", { hasText: "Test" })).toContainText("sent");
    await expect(log.locator("tr", { hasText: "Test" })).toContainText("200");
    expect(hook.hits).toHaveLength(1);
    expect(hook.hits[0]?.headers["x-hydra-event"]).toBe("test");
    expect(String(hook.hits[0]?.headers["x-hydra-signature"])).toMatch(/^sha256=[0-9a-f]{64}$/);
    await screenshot(page, "alerts-channels", { fullPage: true });

    // A rule in the job editor: the new channel is offered, the rule is saved with the job.
    const job = await hydra.createJob({ name: jobName("e2e-alerting"), script: "exit 1" });
    await page.goto(`/jobs/${job.id}/edit`);
    await page.getByTestId("add-rule").click();
    const rule = page.getByTestId("job-rules").getByTestId("rule-row").first();
    await rule.getByTestId("rule-channel").click();
    await page.locator(".ant-select-item-option", { hasText: channel }).click();
    await rule.getByTestId("rule-afterFailures").fill("2");
    await expect(page.getByTestId("spec-json")).toHaveValue(new RegExp(`"channel": "${channel}"`));
    await expect(page.getByTestId("spec-json")).toHaveValue(/"after_failures": 2/);
    await page.getByTestId("save-job").click();
    await expect(page.getByTestId("job-detail")).toBeVisible();
    await expect(page.getByTestId("alert-history")).toBeVisible();

    const saved = await request.get(`${hydra.url}/api/v1/jobs/${job.id}`, { headers: { Authorization: `Bearer ${hydra.token}` } });
    const spec = (await saved.json()) as { notify: { channel: string; on: string[]; after_failures: number }[] };
    expect(spec.notify).toHaveLength(1);
    expect(spec.notify[0]).toMatchObject({ channel, on: ["failed", "timed_out", "lost", "recovered"], after_failures: 2, longer_than_seconds: null });

    // The job's snooze is one click away and shows until when.
    await page.getByTestId("snooze").click();
    await page.getByTestId("snooze-1").click();
    await expect(page.getByTestId("unsnooze")).toContainText("Snoozed until");
  } finally {
    await hook.close();
  }
});
