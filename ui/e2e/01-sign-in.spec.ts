import { expect, screenshot, test } from "./fixtures";

test("a wrong token is refused in words", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("token-input").fill("not-the-token-not-the-token-not-the-token");
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("signin-error")).toContainText("rejected");
});

test("sign in with the admin token, see the domain and live state, sign out", async ({ page, hydra }) => {
  await page.goto("/jobs");
  await expect(page.getByTestId("signin")).toBeVisible();
  // The brand is a modest header (it was a blue band over 40 % of the page); the form is the focus.
  const viewport = page.viewportSize();
  const header = await page.getByTestId("signin-header").boundingBox();
  const form = await page.getByTestId("signin").boundingBox();
  if (!viewport || !header || !form) throw new Error("the sign-in page is not laid out");
  expect(header.height).toBeLessThanOrEqual(0.1 * viewport.height);
  expect(form.y).toBeGreaterThanOrEqual(header.y + header.height);
  expect(form.y + form.height).toBeLessThanOrEqual(viewport.height);
  const blue = await page.evaluate(() => getComputedStyle(document.querySelector(".signin-page") ?? document.body).backgroundImage);
  expect(blue, "no gradient behind the form").toBe("none");
  await screenshot(page, "sign-in");
  await page.getByTestId("token-input").fill(hydra.token);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("jobs-page")).toBeVisible();
  await expect(page.getByTestId("identity-admin")).toHaveText("admin");
  await expect(page.getByTestId("domain-switcher")).toContainText("default");
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "live");

  // The session survives a reload (localStorage).
  await page.reload();
  await expect(page.getByTestId("jobs-page")).toBeVisible();

  await page.getByTestId("signout").click();
  await expect(page.getByTestId("signin")).toBeVisible();
  expect(await page.evaluate(() => window.localStorage.getItem("hydra.session"))).toBeNull();
});

test("a login link signs in and the token leaves the address bar", async ({ page, hydra }) => {
  await page.goto(`/workers#token=${hydra.token}`);
  await expect(page.getByTestId("workers-page")).toBeVisible();
  expect(page.url()).not.toContain(hydra.token);
});
