import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { expectVideoSaved, recordProgress, requestsSeenSoFar, screenshot, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg } from "./support/gated-ffmpeg";

/**
 * The user's path with the local preview engine (no Replicate token): prompt → style → Generate
 * → the job page shows progress, survives a reload, and ends with a video that really plays.
 *
 * The first test runs its own server whose ffmpeg waits at a gate (FFMPEG_PATH, otherwise no
 * configuration): the job is held at its first render while the page is reloaded, so the test
 * sees the state before the render and every change after it, on a fast machine or a busy one.
 */

let server: AppServer | undefined;
test.afterEach(async () => {
  await server?.kill();
  server = undefined;
});

const JOB_URL = /\/jobs\/[A-Za-z0-9_-]{22}$/;

test("a prompt becomes a playing video, with progress on the way", async ({ page }) => {
  const ffmpeg = gatedFfmpeg();
  server = await startAppServer(await freePort(), {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-generate-")),
    FFMPEG_PATH: ffmpeg.path,
  });
  await page.goto(`${server.origin}/`);
  await waitForHydration(page);
  await screenshot(page, "home");

  await page
    .getByRole("textbox", { name: "Prompt", exact: true })
    .fill("A paper boat drifting down a rainy city gutter at night");

  // The style is a radio group: Tab reaches the chosen swatch, the arrow keys move the choice.
  const styles = page.getByRole("radiogroup", { name: "Style" });
  await styles.getByRole("radio", { name: "Cinematic" }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(styles.getByRole("radio", { name: "Anime" })).toBeChecked();

  await expect(page.getByRole("combobox", { name: "Model" })).toContainText("Local preview (not AI)");

  const generate = page.getByRole("button", { name: "Generate" });
  await generate.click();
  await page.waitForURL(JOB_URL);
  const jobUrl = page.url();

  await expect(page.getByText("Made with: Local preview (not AI)")).toBeVisible();

  // Progress advances: the bar's value rises or the stage message changes before the video shows.
  // Every change the page makes is recorded as it happens (a sampling loop could miss a quick
  // render on a busy machine); the recorder is installed again after the reload.
  const seen = await recordProgress(page);
  const video = page.locator("video");
  const progressBar = page.getByRole("progressbar", { name: "Video progress" });

  // The render is held at the gate: the job is under way and no video exists yet.
  await expect(progressBar).toBeVisible();
  await expect.poll(() => seen.length).toBeGreaterThan(0);

  // Reload mid-job: the page comes back with the same job and keeps following it.
  await page.reload();
  await expect(page).toHaveURL(jobUrl);
  await expect(page.getByText("Made with: Local preview (not AI)")).toBeVisible();
  await expect(progressBar).toBeVisible();
  await expect(video).toHaveCount(0);
  await screenshot(page, "job-running");

  // Let the render run: the reloaded page follows it to the end.
  ffmpeg.open();
  await expectVideoSaved(page);

  const values = seen.map((s) => Number(s.split("|")[0])).filter((n) => Number.isFinite(n));
  const messages = new Set(seen.map((s) => s.split("|").slice(1).join("|")));
  const rose = values.some((v, i) => i > 0 && v > (values[i - 1] ?? Infinity));
  expect(rose || messages.size > 1, `progress seen: ${[...new Set(seen)].join(", ")}`).toBe(true);

  // The video is real: it has frames, lasts more than 3 seconds and plays.
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(3);
  await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
    .toBeGreaterThan(0);

  await expect(page.getByRole("link", { name: "Download" })).toHaveAttribute("download", /\.mp4$/);
  await expect(page.getByText("Made with: Local preview (not AI)")).toBeVisible();
  await expect(page).toHaveTitle(/Video ready/);
  await screenshot(page, "job-done");
});

test("a too-short prompt shows a field error and starts nothing", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);

  // No server action (a POST with a Next-Action header) and no document load may follow.
  // (Same-document history updates by the router are not navigations away, so they don't count.)
  const actionPosts: string[] = [];
  const navigations: string[] = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && req.headers()["next-action"]) actionPosts.push(req.url());
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) navigations.push(`${req.method()} ${req.url()}`);
  });

  const prompt = page.getByRole("textbox", { name: "Prompt", exact: true });
  await prompt.fill("hi");
  await page.getByRole("button", { name: "Generate" }).click();

  await expect(page.getByText("The prompt needs at least 3 characters.")).toBeVisible();
  await expect(prompt).toHaveAttribute("aria-invalid", "true");
  await expect(prompt).toHaveAccessibleDescription(/at least 3 characters/);
  await expect(prompt).toBeFocused();

  // Every request the page made up to now has been reported: none was a submission.
  await requestsSeenSoFar(page);
  expect(actionPosts).toEqual([]);
  expect(navigations).toEqual([]);
  expect(new URL(page.url()).pathname).toBe("/");
  await screenshot(page, "home-invalid");
});
