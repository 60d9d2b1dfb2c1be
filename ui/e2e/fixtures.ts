/** Test fixtures: the server started by globalSetup, an API helper, and a signed-in page. */
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(HERE, "..", "e2e-screenshots");
export const DOCS = path.resolve(HERE, "..", "..", "docs");

export interface JobInput {
  name: string;
  script: string;
  params?: Record<string, { default?: string; required?: boolean }>;
  description?: string;
  queue?: string;
  schedule?: { cron: string; timezone?: string };
  requires?: Record<string, string | boolean | number | (string | boolean | number)[]>;
}

export class Hydra {
  constructor(
    readonly url: string,
    readonly token: string,
    private readonly request: APIRequestContext,
  ) {}

  private headers(domain?: string) {
    return { Authorization: `Bearer ${this.token}`, ...(domain ? { "X-Hydra-Domain": domain } : {}) };
  }

  async createDomain(name: string): Promise<void> {
    const response = await this.request.post(`${this.url}/api/v1/domains`, { headers: this.headers(), data: { name } });
    expect(response.status(), await response.text()).toBe(201);
  }

  /** Creates a job (in `domain`, else `default`). */
  async createJob(input: JobInput, domain?: string): Promise<{ id: string; name: string }> {
    const response = await this.request.post(`${this.url}/api/v1/jobs`, {
      headers: this.headers(domain),
      data: {
        name: input.name,
        executor: { type: "shell", script: input.script },
        ...(input.params ? { params: input.params } : {}),
        ...(input.description ? { description: input.description } : {}),
        ...(input.queue ? { queue: input.queue } : {}),
        ...(input.schedule ? { schedule: input.schedule } : {}),
        ...(input.requires ? { requires: input.requires } : {}),
      },
    });
    expect(response.status(), await response.text()).toBe(201);
    return (await response.json()) as { id: string; name: string };
  }

  /** Replaces a job's spec with `input` (a new version of it). */
  async replaceJob(jobId: string, input: JobInput): Promise<void> {
    const response = await this.request.put(`${this.url}/api/v1/jobs/${jobId}`, {
      headers: this.headers(),
      data: { name: input.name, executor: { type: "shell", script: input.script } },
    });
    expect(response.status(), await response.text()).toBe(200);
  }

  async cancelRun(runId: string): Promise<void> {
    const response = await this.request.post(`${this.url}/api/v1/runs/${runId}/cancel`, { headers: this.headers() });
    expect(response.status(), await response.text()).toBe(202);
  }

  async jobNames(domain?: string): Promise<string[]> {
    const response = await this.request.get(`${this.url}/api/v1/jobs?limit=500`, { headers: this.headers(domain) });
    expect(response.status()).toBe(200);
    return ((await response.json()) as { items: { name: string }[] }).items.map((j) => j.name);
  }

  /** A token of `domain` with `role`; returns its secret. */
  async createToken(domain: string, name: string, role: "viewer" | "operator" | "editor" | "owner"): Promise<string> {
    const response = await this.request.post(`${this.url}/api/v1/domains/${domain}/tokens`, { headers: this.headers(), data: { name, role } });
    expect(response.status(), await response.text()).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  async runJob(jobId: string): Promise<{ id: string }> {
    const response = await this.request.post(`${this.url}/api/v1/jobs/${jobId}/run`, {
      headers: this.headers(),
      data: { trigger: "manual", params: {} },
    });
    expect(response.status()).toBe(202);
    return (await response.json()) as { id: string };
  }
}

/** A unique job name per test run. */
export function jobName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean; docs?: string } = {}): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
  // The README's pictures change only when asked for (scripts/screenshots.sh): tests leave tracked
  // files alone.
  if (opts.docs && process.env.HYDRA_DOCS_SCREENSHOTS === "1") {
    fs.mkdirSync(DOCS, { recursive: true });
    fs.copyFileSync(file, path.join(DOCS, opts.docs));
  }
}

/** Sign in through the sign-in page (the app asks `GET /me` who the token is). */
export async function signIn(page: Page, token: string): Promise<void> {
  await expect(page.getByTestId("signin")).toBeVisible();
  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("signout")).toBeVisible();
}

/** The admin picks `domain` in the header's switcher. */
export async function pickDomain(page: Page, domain: string): Promise<void> {
  await page.getByTestId("domain-switcher").click();
  // Search first: the list is virtual, so a domain far down is not rendered until filtered in.
  await page.getByTestId("domain-switcher").locator("input").fill(domain);
  await page.getByTestId("domain-option").filter({ hasText: domain }).first().click();
  await expect(page.getByTestId("domain-switcher")).toContainText(domain);
}

interface Fixtures {
  hydra: Hydra;
  /** A page already signed in with the admin token (session in localStorage). */
  app: Page;
  dialogs: string[];
}

export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    await use(process.env.HYDRA_E2E_URL);
  },
  hydra: async ({ request }, use) => {
    const url = process.env.HYDRA_E2E_URL;
    const token = process.env.HYDRA_E2E_TOKEN;
    if (!url || !token) throw new Error("globalSetup did not start hydra-jobs");
    await use(new Hydra(url, token, request));
  },
  dialogs: async ({ page }, use) => {
    // Any alert()/confirm() would be script execution from job output: record and dismiss it.
    const seen: string[] = [];
    page.on("dialog", (dialog) => {
      seen.push(dialog.message());
      void dialog.dismiss();
    });
    await use(seen);
  },
  app: async ({ page, hydra, dialogs }, use) => {
    await page.addInitScript((token) => {
      if (!window.localStorage.getItem("hydra.session")) {
        window.localStorage.setItem("hydra.session", JSON.stringify({ token, isAdmin: true, domain: "default", actor: "admin" }));
      }
    }, hydra.token);
    await page.goto("/");
    await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");
    await use(page);
    expect(dialogs, "no dialog may open").toEqual([]);
  },
});

export { expect };
