import { expect, test } from "@playwright/test";
import { expectVideoSaved, waitForHydration } from "./helpers";
import { mp4TrackTypes } from "./support/mp4";

/**
 * The job as a real pipeline on the local engine: "Enhance prompt automatically" and "Add sound"
 * give four real steps and an MP4 with both a video and an audio stream.
 */
test("enhance → generate → sound → save ends with an MP4 that has sound", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a fox in the snow");
  await page.getByLabel("Enhance prompt automatically").check();
  await page.getByLabel("Add sound").check();
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  const id = page.url().split("/").pop()!;

  await expectVideoSaved(page, 90_000);

  const job = (await (await page.request.get(`/api/status/${id}`)).json()) as {
    steps: { name: string; state: string; engine: string }[];
    enhancedPrompt: string;
    videoUrl: string;
  };
  expect(job.steps.map((s) => `${s.name}:${s.state}`)).toEqual([
    "enhance:done",
    "generate:done",
    "sound:done",
    "save:done",
  ]);
  // The enhanced prompt is shown on the page, and it is the one the engine was given.
  expect(job.enhancedPrompt).toContain("a fox in the snow");
  await expect(page.getByText(job.enhancedPrompt, { exact: false }).first()).toBeVisible();

  // Only the owner is served the job's status and files: page.request sends the page's cookies.
  const file = await page.request.get(job.videoUrl);
  expect(file.headers()["content-type"]).toBe("video/mp4");
  expect(mp4TrackTypes(await file.body()).sort()).toEqual(["soun", "vide"]);
});
