import { mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { expectVideoSaved, generateFromHome, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";

const SECURITY_HEADERS = ["content-security-policy", "referrer-policy", "x-content-type-options", "x-frame-options"];

test("pages and the status API carry the security headers", async ({ page, request }) => {
  const id = await generateFromHome(page, "a quiet harbour at dawn");

  for (const url of ["/", `/jobs/${id}`, `/api/status/${id}`]) {
    // As the owner (page.request shares the page's cookies), and as a stranger, who gets a 404.
    for (const res of [await page.request.get(url), await request.get(url)]) {
      const headers = res.headers();
      for (const name of SECURITY_HEADERS) expect(headers[name], `${name} on ${url}`).toBeTruthy();
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      if (!url.startsWith("/api/")) expect(headers["content-security-policy"]).toMatch(/script-src[^;]*'nonce-/);
    }
  }
});

test("a prompt made of HTML stays text", async ({ page }) => {
  const payload = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
  await generateFromHome(page, payload);
  await expect(page.getByText(payload).first()).toBeVisible();
  await page.reload();
  await expect(page.getByText(payload).first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
});

let server: AppServer | undefined;
test.afterEach(async () => {
  await server?.kill();
  server = undefined;
});

async function makeVideo(page: Page, origin: string, n: number): Promise<string> {
  await page.goto(`${origin}/`);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(`test clip number ${n}`);
  await page.getByLabel("Length").selectOption("4");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  return page.url();
}

test("with the default limits, the 11th job in an hour from one browser is refused and starts nothing", async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-limits-"));
  server = await startAppServer(await freePort(), { DATA_DIR: dataDir });
  for (let n = 1; n <= 10; n++) {
    await makeVideo(page, server.origin, n);
    // At most two may run at once (the default), so each one is let to finish.
    await expectVideoSaved(page, 60_000);
  }
  // Every local engine run leaves its file in <DATA_DIR>/renders: the count shows engine calls.
  const engineRuns = () => readdirSync(path.join(dataDir, "renders")).length;
  const runsBefore = engineRuns();
  expect(runsBefore).toBeGreaterThanOrEqual(10);

  await page.goto(`${server.origin}/`);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("one too many");
  await page.getByRole("button", { name: "Generate" }).click();
  // The server's sentence, said once, with the wait (the window is an hour from the first video).
  await expect(page.getByRole("status").filter({ hasText: /another/ })).toHaveText(
    /^This browser has made its 10 videos for the hour; you can make another in (\d+ minutes?|1 hour|less than a minute)\.$/,
  );
  expect(new URL(page.url()).pathname).toBe("/");

  const cookies = await page.context().cookies(server.origin);
  const jobs = (await (
    await request.get(`${server.origin}/api/jobs`, {
      headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; ") },
    })
  ).json()) as { jobs: { prompt: string }[]; nextCursor: string | null };
  expect(jobs.nextCursor).toBeNull();
  expect(jobs.jobs).toHaveLength(10);
  expect(jobs.jobs.some((j) => j.prompt === "one too many")).toBe(false);
  expect(engineRuns()).toBe(runsBefore);
});
