import { describeCron } from "../src/cron/cronToWords";
import { expect, jobName, screenshot, test } from "./fixtures";
import { GitRepo } from "./gitRepo";

test("write a script in the code editor: highlighted, numbered, keyboard-friendly; it runs", async ({ app }) => {
  const page = app;
  const name = jobName("e2e-editor");
  await page.goto("/jobs/new");
  await page.getByTestId("job-name").fill(name);

  const editor = page.getByTestId("job-script");
  await editor.click();
  // Typed key by key, as a person does (Enter keeps the previous line's indentation).
  await page.keyboard.type('# greet\nif [ -n "$HOME" ]; then\necho "hello from the editor"\nfi\n');
  await expect(page.getByTestId("spec-json")).toHaveValue(/"script": "# greet\\nif \[ -n \\"\$HOME\\" \]; then\\necho \\"hello from the editor\\"\\nfi\\n"/);

  // Highlighting is in the DOM as lezer's token classes, line numbers in the gutter.
  await expect(editor.locator(".tok-comment")).toHaveText("# greet");
  await expect(editor.locator(".tok-keyword").filter({ hasText: /^if$/ })).toHaveCount(1);
  await expect(editor.locator(".tok-keyword").filter({ hasText: /^fi$/ })).toHaveCount(1);
  await expect(editor.locator(".tok-string").first()).toContainText('"');
  await expect(page.locator(".cm-lineNumbers .cm-gutterElement").filter({ hasText: /^5$/ })).toHaveCount(1);

  // Tab indents inside the editor; Escape then Tab moves on to the next control.
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("spec-json")).toHaveValue(/fi\\n {2}"/);
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  await expect(editor).not.toBeFocused();
  expect(await page.evaluate(() => document.activeElement?.closest(".cm-editor") != null)).toBe(false);

  // Another executor type, another language: batch keywords and %variables%.
  await page.getByText("batch", { exact: true }).click();
  await expect(page.locator(".code-editor")).toHaveAttribute("data-language", "batch");
  await page.getByText("shell", { exact: true }).click();
  await expect(page.locator(".code-editor")).toHaveAttribute("data-language", "shell");
  await expect(editor.locator(".tok-comment")).toHaveText("# greet");

  await expect(page.getByTestId("spec-valid")).toBeVisible();
  await screenshot(page, "job-editor-code", { fullPage: true });
  await page.getByTestId("save-job").click();
  await expect(page.getByTestId("job-detail")).toBeVisible();
  await expect(page.getByTestId("job-script-view")).toContainText('echo "hello from the editor"');
  await page.getByTestId("run-now").click();
  await expect(page.getByTestId("run-detail")).toBeVisible();
  await expect(page.getByTestId("log-viewer")).toContainText("hello from the editor");
  await expect(page.getByTestId("run-detail").getByTestId("run-status").first()).toHaveAttribute("data-status", "succeeded");
});

test("batch scripts get their own highlighting: REM, labels, %variables%", async ({ app }) => {
  const page = app;
  await page.goto("/jobs/new");
  await page.getByText("batch", { exact: true }).click();
  await page.getByTestId("job-script").fill("@echo off\nREM say it\nset WHO=%USERNAME%\ngoto :done\n:done\necho %WHO%");
  const editor = page.getByTestId("job-script");
  await expect(editor.locator(".tok-comment")).toHaveText("REM say it");
  await expect(editor.locator(".tok-labelName")).toHaveText([":done", ":done"]);
  await expect(editor.locator(".tok-variableName2")).toHaveText(["%USERNAME%", "%WHO%"]);
  await expect(editor.locator(".tok-keyword").filter({ hasText: "goto" })).toHaveCount(1);
});

test("create a git-sourced job in the form and see its run succeed from the checkout", async ({ app }) => {
  const page = app;
  const repo = new GitRepo();
  try {
    repo.commit({ "VERSION": "7\n" });
    const sha = repo.commit({ "jobs/run.sh": '#!/bin/sh\necho "from-git version=$(cat ../VERSION) in $(basename "$PWD")"\n' });
    const name = jobName("e2e-git");
    await page.goto("/jobs/new");
    await page.getByTestId("job-name").fill(name);
    await page.getByTestId("source-kind").getByText("Git repository").click();

    // The server's own rules, shown at the field.
    await page.getByTestId("git-url").fill("http://example.org/r.git");
    await expect(page.getByTestId("error-gitUrl")).toContainText("https://");
    await page.getByTestId("git-url").fill(repo.url);
    await page.getByTestId("git-ref").fill("-bad");
    await expect(page.getByTestId("error-gitRef")).toContainText("must not start with '-'");
    await page.getByTestId("git-ref").fill("main");
    await page.getByTestId("git-path").fill("../up");
    await expect(page.getByTestId("error-gitPath")).toContainText("'..'");
    await page.getByTestId("git-path").fill("jobs");
    await page.getByTestId("job-script").fill("./run.sh");

    // Form → JSON, then JSON → form.
    await expect(page.getByTestId("spec-json")).toHaveValue(new RegExp(`"source": \\{\\s*"url": "${repo.url}",\\s*"ref": "main",\\s*"path": "jobs"\\s*\\}`));
    await expect(page.getByTestId("spec-valid")).toBeVisible();
    const json = JSON.parse(await page.getByTestId("spec-json").inputValue()) as Record<string, unknown>;
    await page.getByTestId("spec-json").fill(JSON.stringify({ ...json, source: { url: repo.url, ref: sha, path: "jobs" } }, null, 2));
    await expect(page.getByTestId("git-ref")).toHaveValue(sha);
    await page.getByTestId("git-ref").fill("main");
    await expect(page.getByTestId("spec-valid")).toBeVisible();
    await screenshot(page, "job-editor-git", { fullPage: true });

    await page.getByTestId("save-job").click();
    await expect(page.getByTestId("job-detail")).toBeVisible();
    const jobPage = new URL(page.url()).pathname;
    await page.getByTestId("run-now").click();
    await expect(page.getByTestId("run-detail")).toBeVisible();
    await expect(page.getByTestId("log-viewer")).toContainText("from-git version=7 in jobs");
    await expect(page.getByTestId("run-detail").getByTestId("run-status").first()).toHaveAttribute("data-status", "succeeded");
    await expect(page.getByTestId("run-detail")).toContainText(sha);

    // Editing the saved job shows its source in the fields.
    await page.goto(jobPage);
    await page.getByTestId("edit-job").click();
    await expect(page.getByTestId("git-url")).toHaveValue(repo.url);
    await expect(page.getByTestId("git-ref")).toHaveValue("main");
    await expect(page.getByTestId("git-path")).toHaveValue("jobs");
  } finally {
    repo.remove();
  }
});

test("the cron words and the server agree on which expressions are valid", async ({ hydra, request }) => {
  const expressions = [
    "*/5 * * * *", "0 2 * * *", "30 1 * * 1-5", "*/10 9-17 * * MON-FRI", "0 12 * * 7", "0 0 * * 0-7", "0 0 ? * MON",
    "5/15 * * * *", "1-10/2 * * * *", "*/60 * * * *", "30 0 2 * * *", "@daily", "@hourly", "@weekly", "@yearly", "@ANNUALLY",
    "61 * * * *", "0 0 L * *", "0 0 1W * *", "0 0 * * 5L", "0 0 * * 1#2", "0 0 * * SAT-SUN", "*/0 * * * *", "*/61 * * * *",
    "? * * * *", "0 0 ?/2 * *", "1 2 3 4 5 6 7", "@reboot", "@every 5m", "0 0 1,,2 * *",
  ];
  for (const cron of expressions) {
    const response = await request.get(`${hydra.url}/api/v1/schedules/preview`, {
      params: { cron, timezone: "UTC", count: 1 },
      headers: { Authorization: `Bearer ${hydra.token}` },
    });
    expect([200, 422], cron).toContain(response.status());
    expect(describeCron(cron) !== null, `${cron}: server answered ${response.status()}`).toBe(response.status() === 200);
  }
});
