import { expect, test, type Page } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expectVideoSaved, recordProgress, requestsSeenSoFar, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg, type GatedFfmpeg } from "./support/gated-ffmpeg";

/**
 * How the job page hears about changes: pushed over server-sent events (GET /api/events/[id]),
 * and polled from GET /api/status/[id] only when the stream cannot be used.
 */

const JOB_URL = /\/jobs\/[A-Za-z0-9_-]{22}$/;

// Each test runs its own server whose renders wait at an ffmpeg gate until the page follows the
// job, so what the page shows does not depend on how fast this machine renders.
let server: AppServer | undefined;
let ffmpeg: GatedFfmpeg;
test.beforeEach(async () => {
  ffmpeg = gatedFfmpeg();
  server = await startAppServer(await freePort(), {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-live-")),
    FFMPEG_PATH: ffmpeg.path,
  });
});
test.afterEach(async () => {
  await server?.kill();
  server = undefined;
});

/** Lets the held render run once the page is following the job, and waits for the video. */
async function releaseAndFollow(page: Page): Promise<string[]> {
  const seen = await recordProgress(page);
  await expect(page.getByRole("progressbar", { name: "Video progress" })).toBeVisible();
  ffmpeg.open();
  await expectVideoSaved(page);
  return seen;
}

function countRequests(page: Page) {
  const seen = { events: [] as string[], status: [] as string[] };
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.startsWith("/api/events/")) seen.events.push(req.resourceType());
    if (path.startsWith("/api/status/")) seen.status.push(req.method());
  });
  return seen;
}

async function startJob(page: Page, origin: string, prompt: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(JOB_URL);
}

async function expectPlayable(page: Page): Promise<void> {
  const video = page.locator("video");
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
    .toBeGreaterThan(0);
}

test("the job page follows the job through the stream, without polling", async ({ page }) => {
  const seen = countRequests(page);
  await startJob(page, server!.origin, "A kite rising over a windy beach at noon");

  const states = new Set(await releaseAndFollow(page));
  // Each state after the server-rendered one came through the stream: nothing polled.
  expect(states.size, `states seen: ${[...states].join(", ")}`).toBeGreaterThan(1);
  expect(seen.events.length).toBeGreaterThanOrEqual(1);
  expect(seen.events).toContain("eventsource");
  expect(seen.status).toEqual([]);
  await expect(page).toHaveTitle(/Video ready/);
  await expectPlayable(page);

  // A finished job is final: its page neither streams nor polls.
  const before = { events: seen.events.length, status: seen.status.length };
  await page.reload();
  await expect(page.locator("video")).toBeVisible();
  await waitForHydration(page, "video");
  await requestsSeenSoFar(page);
  expect(seen.events.length).toBe(before.events);
  expect(seen.status.length).toBe(before.status);
});

test("when the stream is blocked, the page polls the status route instead and still ends with a video", async ({
  page,
}) => {
  const seen = countRequests(page);
  await page.route("**/api/events/**", (route) => route.abort());
  const statuses: number[] = [];
  page.on("response", (res) => {
    if (new URL(res.url()).pathname.startsWith("/api/status/")) statuses.push(res.status());
  });
  await startJob(page, server!.origin, "A lighthouse beam sweeping through fog");

  await releaseAndFollow(page);
  expect(seen.events.length).toBeGreaterThanOrEqual(1);
  expect(seen.status.length).toBeGreaterThanOrEqual(1);
  expect(
    statuses.every((s) => s === 200 || s === 304),
    `status answers: ${statuses.join(", ")}`,
  ).toBe(true);
  await expect(page).toHaveTitle(/Video ready/);
  await expectPlayable(page);
});
