import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startFakeReplicate, type FakeReplicate } from "../test/support/fake-replicate";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { stopAfterEach } from "./support/stop-after-each";

/**
 * Play at once: the moment the model's video exists, the job page plays it from the app's own
 * URL, which streams the provider's file while our copy is being made. Here the provider holds
 * the save step's download (a request without a Range header; a media element always sends one),
 * so the copy cannot finish while the video already plays. Then the copy finishes, the provider
 * deletes its file, and the same player, never reloaded, still plays from our copy.
 */

let fake: FakeReplicate | undefined;
let server: AppServer | undefined;

stopAfterEach(
  () => server,
  () => fake,
);

type VideoLog = { loadstarts: number; emptied: number; errors: number; playing: number };

test("the video plays while it is being saved, and the same player goes on after the provider's copy is gone", async ({
  page,
}) => {
  fake = await startFakeReplicate({ timing: { startingMs: 300, processingMs: 1200, ticks: 3 } });
  const port = await freePort();
  server = await startAppServer(port, {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-instant-")),
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_BASE_URL: fake.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
    APP_URL: `http://127.0.0.1:${port}`,
  });
  const { origin } = server;
  const providerRequests: string[] = [];
  page.on("request", (req) => {
    if (req.url().startsWith(fake!.origin)) providerRequests.push(req.url());
  });

  // Every event of every <video> the page ever shows, from the first one on.
  await page.addInitScript(() => {
    const w = window as unknown as { __video: VideoLog };
    w.__video = { loadstarts: 0, emptied: 0, errors: 0, playing: 0 };
    const watch = (v: HTMLVideoElement) => {
      if ((v as unknown as { __watched?: boolean }).__watched) return;
      (v as unknown as { __watched?: boolean }).__watched = true;
      v.addEventListener("loadstart", () => w.__video.loadstarts++);
      v.addEventListener("emptied", () => w.__video.emptied++);
      v.addEventListener("error", () => w.__video.errors++);
      v.addEventListener("playing", () => w.__video.playing++);
    };
    new MutationObserver(() => document.querySelectorAll("video").forEach(watch)).observe(document, {
      subtree: true,
      childList: true,
    });
  });

  const release = fake.holdDownloads((req) => !req.headers.range);
  await page.goto(`${origin}/`);
  const created = await page.request.post(`${origin}/api/jobs`, {
    data: {
      prompt: "a hummingbird hovering by a red flower",
      model: "wan-video/wan-2.2-t2v-fast",
      enhance: false,
      sound: false,
    },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await page.goto(`${origin}/jobs/${id}`);

  // The model finishes; the save step's download is held, and the page plays the video already.
  await expect(page.getByTestId("saving-note")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("job-message")).toHaveText("Saving the video…");
  await expect(page.getByRole("link", { name: "Download" })).toHaveCount(0);
  const video = page.locator("video");
  const src = await video.getAttribute("src");
  expect(src).toBe(`/api/files/${id}/a-hummingbird-hovering-by-a-red-flower.mp4`);
  await video.evaluate((v: HTMLVideoElement) => {
    (v as unknown as { __marker: string }).__marker = "the first player";
    v.muted = true;
    void v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
    .toBeGreaterThan(0.3);
  expect(await video.evaluate((v: HTMLVideoElement) => v.readyState)).toBeGreaterThanOrEqual(2);

  // It played before the save step finished: the job is still saving, and the only provider
  // downloads answered so far were the player's ranged ones, streamed through the app.
  const status = (await (await page.request.get(`${origin}/api/status/${id}`)).json()) as {
    status: string;
    stage: string;
    videoUrl: string | null;
  };
  expect(status).toMatchObject({ status: "processing", stage: "saving", videoUrl: null });
  expect(fake.downloads.length).toBeGreaterThan(0);
  expect(fake.downloads.every((d) => d.range !== null)).toBe(true);

  // The copy finishes; then the provider deletes its file.
  release();
  await expect(page.getByRole("link", { name: "Download" })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("saving-note")).toHaveCount(0);
  expect(fake.downloads.some((d) => d.range === null && d.status === 200)).toBe(true);
  fake.deleteOutputs();
  expect((await fetch(`${fake.origin}/files/${fake.downloads[0]!.id}.mp4`)).status).toBe(404);

  // The same player, never reloaded, plays the video again from the start.
  expect(await video.getAttribute("src")).toBe(src);
  expect(await video.evaluate((v: HTMLVideoElement) => (v as unknown as { __marker?: string }).__marker)).toBe(
    "the first player",
  );
  await video.evaluate((v: HTMLVideoElement) => {
    v.currentTime = 0;
    void v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => (v.ended ? 99 : v.currentTime)), { timeout: 30_000 })
    .toBeGreaterThan(0.3);
  const log = await page.evaluate(() => (window as unknown as { __video: VideoLog }).__video);
  expect(log).toMatchObject({ loadstarts: 1, emptied: 0, errors: 0 });
  expect(await video.evaluate((v: HTMLVideoElement) => v.error)).toBeNull();

  // Under the same URL the app now serves our copy, though the provider's is gone.
  const ranged = await page.evaluate(async (url) => {
    const res = await fetch(url, { headers: { range: "bytes=0-99" } });
    return { status: res.status, bytes: (await res.arrayBuffer()).byteLength, cache: res.headers.get("cache-control") };
  }, src!);
  expect(ranged).toEqual({ status: 206, bytes: 100, cache: "private, max-age=31536000, immutable" });

  // The browser never talked to the provider, and never saw its URL.
  expect(providerRequests).toEqual([]);
  expect(await page.content()).not.toContain(fake.origin);
});
