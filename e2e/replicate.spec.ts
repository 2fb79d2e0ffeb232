import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { DEFAULT_MODEL_ID, getModel } from "../lib/models/registry";
import { startFakeReplicate, type FakeReplicate } from "../test/support/fake-replicate";
import { expectVideoSaved, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { stopAfterEach } from "./support/stop-after-each";

/**
 * The whole UI on the Replicate engine: the app (its own `next start`) talks through the real
 * `replicate` client to a Replicate-compatible server on loopback that signs its webhooks like
 * Replicate. The video must be served by the app, and still play after the provider deleted it.
 */

let fake: FakeReplicate | undefined;
let server: AppServer | undefined;

stopAfterEach(
  () => server,
  () => fake,
);

async function start(withAppUrl: boolean) {
  fake = await startFakeReplicate({ timing: { startingMs: 800, processingMs: 2500, ticks: 5 } });
  const port = await freePort();
  const env: Record<string, string> = {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-replicate-")),
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_BASE_URL: fake.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
  };
  if (withAppUrl) env.APP_URL = `http://127.0.0.1:${port}`;
  server = await startAppServer(port, env);
  return server;
}

async function generate(page: Page, origin: string) {
  await page.goto(`${origin}/`);
  await waitForHydration(page);
  // With a token the form opens on the registry's default AI model; the preview is listed last, still "not AI".
  const modelMenu = page.getByRole("combobox", { name: "Model" });
  await expect(modelMenu).toHaveValue(DEFAULT_MODEL_ID);
  expect(getModel(DEFAULT_MODEL_ID).engine).toBe("replicate");
  await expect(modelMenu.locator("option").last()).toHaveText("Local preview (not AI)");
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a hummingbird hovering by a red flower");
  await page.getByLabel("Model").selectOption({ label: "Wan 2.2 (fast)" });
  // Only what the model supports is offered: Wan has no negative prompt.
  await expect(page.getByLabel("Negative prompt")).toHaveCount(0);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
}

async function expectOurVideoPlays(page: Page, origin: string) {
  const video = page.locator("video");
  await expectVideoSaved(page, 60_000);
  const src = await video.getAttribute("src");
  // Our copy, named after the prompt.
  expect(src).toMatch(/^\/api\/files\/[A-Za-z0-9_-]{22}\/a-hummingbird-hovering-by-a-red-flower\.mp4$/);
  fake!.deleteOutputs();
  await page.reload();
  await expect
    .poll(() => page.locator("video").evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  const res = await page.request.get(`${origin}${src}`);
  expect(res.status()).toBe(200);
}

test("with APP_URL: webhooks drive the job, and the video outlives the provider's copy", async ({ page }) => {
  const { origin } = await start(true);
  await generate(page, origin);
  await expect(page.getByText(/Waiting for a GPU|Generating the video/).first()).toBeVisible({ timeout: 30_000 });
  await expectOurVideoPlays(page, origin);
  expect(fake!.deliveries.some((d) => d.status === 200)).toBe(true);
});

test("without APP_URL: no webhooks, and the job still ends with the video", async ({ page }) => {
  const { origin } = await start(false);
  await generate(page, origin);
  await expectOurVideoPlays(page, origin);
  expect(fake!.deliveries).toHaveLength(0);
});
