import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { ensureRedis } from "../test/support/redis";
import { expectVideoSaved } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg } from "./support/gated-ffmpeg";

/**
 * A crash mid-job loses nothing: the server is killed with SIGKILL while the preview renders
 * (its ffmpeg dies with it), started again on the same data, and the job goes on to the end.
 */

let server: AppServer | undefined;
test.afterEach(async () => {
  await server?.kill();
  server = undefined;
});

async function startJob(
  page: Page,
  origin: string,
  extra: { enhance?: boolean; sound?: boolean } = {},
): Promise<string> {
  await page.goto(`${origin}/`);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("A lantern festival over a dark river");
  await page.getByLabel("Length").selectOption("6");
  await page.getByLabel("Resolution").selectOption("480p");
  if (extra.enhance) await page.getByLabel(/Enhance prompt automatically/).check();
  if (extra.sound) await page.getByLabel(/Add sound/).check();
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  return page.url().split("/").pop()!;
}

/** The job's state, asked as its owner (page.request sends the page's cookies; anyone else gets a 404). */
async function status(
  page: Page,
  origin: string,
  id: string,
): Promise<{ status: string; stage: string; steps: { name: string; state: string; attempt: number }[] }> {
  return (await page.request.get(`${origin}/api/status/${id}`)).json();
}

async function expectPlayingVideo(page: Page) {
  const video = page.locator("video");
  await expectVideoSaved(page, 90_000);
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(5);
}

for (const backend of ["embedded", "redis"] as const) {
  test(`kill -9 mid-render, restart: the job still finishes (${backend} store)`, async ({ page }) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-restart-"));
    // The render is held at the gate until after the crash: it cannot finish before the kill.
    const ffmpeg = gatedFfmpeg();
    const env: Record<string, string> = { DATA_DIR: dataDir, FFMPEG_PATH: ffmpeg.path };
    if (backend === "redis") env.REDIS_URL = await ensureRedis();
    const port = await freePort();
    server = await startAppServer(port, env);
    const id = await startJob(page, server.origin);

    await expect
      .poll(async () => (await status(page, server!.origin, id)).stage, { timeout: 30_000 })
      .toBe("generating");
    await server.kill();

    server = await startAppServer(port, env);
    ffmpeg.open();
    await page.reload();
    await expectPlayingVideo(page);
    const done = await status(page, server.origin, id);
    expect(done.status).toBe("succeeded");
    expect(done.steps.find((s) => s.name === "generate")!.attempt).toBeGreaterThanOrEqual(2);
  });
}

test("stopped between two steps, the pipeline goes on after a restart", async ({ page }) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-restart-"));
  // The video renders freely; the soundtrack (the only ffmpeg call with "aevalsrc=") waits at the
  // gate until after the crash, so the kill always lands after the video step and before the sound.
  const ffmpeg = gatedFfmpeg({ holding: "aevalsrc=" });
  const env = { DATA_DIR: dataDir, FFMPEG_PATH: ffmpeg.path };
  const port = await freePort();
  server = await startAppServer(port, env);
  const id = await startJob(page, server.origin, { sound: true });

  const stepStates = async () =>
    Object.fromEntries((await status(page, server!.origin, id)).steps.map((s) => [s.name, s.state]));
  await expect
    .poll(stepStates, { timeout: 60_000 })
    .toMatchObject({ generate: "done", sound: "running", save: "waiting" });
  await server.kill();

  server = await startAppServer(port, env);
  ffmpeg.open();
  await page.reload();
  await expectPlayingVideo(page);
  const done = await status(page, server.origin, id);
  expect(done.status).toBe("succeeded");
  const states = Object.fromEntries(done.steps.map((s) => [s.name, s.state]));
  expect(states).toMatchObject({ generate: "done", sound: "done", save: "done" });
  // The video was not made again: only the step the crash interrupted ran a second time.
  expect(done.steps.find((s) => s.name === "generate")!.attempt).toBe(1);
  expect(done.steps.find((s) => s.name === "sound")!.attempt).toBeGreaterThanOrEqual(2);
});
