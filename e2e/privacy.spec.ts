import { expect, test } from "@playwright/test";
import { expectVideoSaved, generateFromHome } from "./helpers";

/**
 * Private means the owner (issue 10): a job made in one browser is, for any other browser, a job
 * that does not exist, on every route that shows it. Sharing gives it a public page at a link of
 * its own; turning sharing off kills that link, its embed and every file URL behind it at once.
 */

const NO_SUCH_JOB = "There is no job with that id. It may have been deleted.";

test("a private job is the owner's alone; a share link works until it is turned off", async ({ browser, baseURL }) => {
  const owner = await browser.newContext({ baseURL });
  const page = await owner.newPage();
  const id = await generateFromHome(page, "A paper lantern over a night market");
  // Saved, not only playing: the page plays the render while our copy is made (issue 14).
  await expectVideoSaved(page);

  // The owner's own view, and the job's own files, which only the owner's browser may keep.
  const mine = (await (await page.request.get(`/api/status/${id}`)).json()) as {
    videoUrl: string;
    posterUrl: string;
    finalPrompt: string;
  };
  expect(mine.videoUrl).toMatch(new RegExp(`^/api/files/${id}/`));
  const ownFile = await page.request.get(mine.videoUrl);
  expect(ownFile.status()).toBe(200);
  expect(ownFile.headers()["cache-control"]).toMatch(/^private/);

  // A second browser: the job does not exist for it, whichever way it asks.
  const stranger = await browser.newContext({ baseURL });
  const other = await stranger.newPage();
  const jobPage = await other.goto(`/jobs/${id}`);
  expect(jobPage?.status()).toBe(404);
  await expect(other.getByText(mine.finalPrompt)).toHaveCount(0);
  for (const path of [`/api/status/${id}`, `/api/events/${id}`]) {
    const res = await other.request.get(path);
    expect(res.status(), path).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(NO_SUCH_JOB);
  }
  for (const path of [mine.videoUrl, mine.posterUrl, `${mine.videoUrl}?download=1`])
    expect((await other.request.get(path)).status(), path).toBe(404);
  expect((await other.request.delete(`/api/jobs/${id}`)).status()).toBe(404);

  // The owner shares it.
  const toggle = page.getByRole("switch", { name: "Public share page" });
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  const shareUrl = await page.getByRole("textbox", { name: "Share link" }).inputValue();
  const sharePath = new URL(shareUrl).pathname;
  expect(sharePath).toMatch(/^\/v\/[A-Za-z0-9_-]{32}$/);

  // The second browser watches it at the share link; the job itself stays private.
  await other.goto(sharePath);
  await expect(other.getByRole("heading", { level: 1, name: "A paper lantern over a night market" })).toBeVisible();
  const video = other.locator("video");
  await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
    .toBeGreaterThan(0);
  const seenVideo = await video.evaluate((v: HTMLVideoElement) => v.currentSrc);
  const seenPoster = await video.evaluate((v: HTMLVideoElement) => v.poster);
  expect(seenVideo).not.toContain(id);
  expect(seenVideo).not.toContain(mine.videoUrl);
  const sharedFile = await other.request.get(seenVideo);
  expect(sharedFile.status()).toBe(200);
  // Briefly cacheable by anyone, so an unshare reaches every cache within a minute.
  expect(sharedFile.headers()["cache-control"]).toBe("public, max-age=60, s-maxage=60");
  expect((await other.request.get(`${sharePath}/embed`)).status()).toBe(200);
  expect((await other.request.get(`/api/status/${id}`)).status()).toBe(404);
  expect((await other.request.get(mine.videoUrl)).status()).toBe(404);

  // The owner turns sharing off: the link, the embed and the files the second browser saw are gone.
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  expect((await other.goto(sharePath))?.status()).toBe(404);
  await expect(other.locator("video")).toHaveCount(0);
  expect((await other.request.get(`${sharePath}/embed`)).status()).toBe(404);
  expect((await other.request.get(seenVideo)).status()).toBe(404);
  expect((await other.request.get(seenPoster)).status()).toBe(404);
  const tags = await (await other.request.get(sharePath)).text();
  expect(tags).not.toContain('property="og:video"');

  // Sharing again makes a new link; the old one stays dead.
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  const again = await page.getByRole("textbox", { name: "Share link" }).inputValue();
  expect(again).not.toBe(shareUrl);
  expect((await other.request.get(new URL(again).pathname)).status()).toBe(200);
  expect((await other.request.get(sharePath)).status()).toBe(404);
  expect((await other.request.get(seenVideo)).status()).toBe(404);

  await stranger.close();
  await owner.close();
});
