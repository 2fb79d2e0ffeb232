import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { colourDistance, meanColour, twoColourImage, type Rgb } from "../test/support/frame-colours";
import { expectVideoSaved, waitForHydration } from "./helpers";

/**
 * Image to video offline, on the local preview: a first frame picked in the form becomes a clip
 * that opens on it (a frame decoded with ffmpeg has the image's colours), a text file named
 * .png is refused with a message, and "Continue from the last frame" makes a job linked both ways.
 */

const JOB_URL = /\/jobs\/([A-Za-z0-9_-]{22})$/;
const BLUE: Rgb = [30, 144, 220];
const ORANGE: Rgb = [220, 90, 30];
// Clear of the caption box (bottom) and the "not AI" label (top left).
const LEFT = { x: 0.05, y: 0.3, w: 0.2, h: 0.2 };
const RIGHT = { x: 0.75, y: 0.3, w: 0.2, h: 0.2 };

const dir = mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-frames-"));

async function finishedVideo(page: Page): Promise<string> {
  const video = page.locator("video");
  await expectVideoSaved(page, 60_000);
  const src = await video.getAttribute("src");
  const res = await page.request.get(src!);
  expect(res.status()).toBe(200);
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, await res.body());
  return file;
}

test("a first frame picked in the form opens the local preview, and the video continues from its last frame", async ({
  page,
}) => {
  const image = path.join(dir, "wall.png");
  await twoColourImage(image, BLUE, ORANGE);

  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a painted wall slowly comes into focus");
  await page.getByLabel("First frame (optional)").setInputFiles(image);
  await expect(page.getByRole("img", { name: "First frame preview" })).toBeVisible();
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(JOB_URL);
  const firstId = JOB_URL.exec(new URL(page.url()).pathname)![1]!;

  const video = await finishedVideo(page);
  // The clip's first frames show the image: its two halves' colours, left and right.
  for (const frame of [0, 5]) {
    expect(colourDistance(await meanColour(video, frame, LEFT), BLUE)).toBeLessThan(24);
    expect(colourDistance(await meanColour(video, frame, RIGHT), ORANGE)).toBeLessThan(24);
  }
  // The owner sees the image on the job page.
  await expect(page.getByRole("img", { name: "The first frame you gave" })).toBeVisible();

  await page.getByRole("button", { name: "Continue from the last frame" }).click();
  await page.waitForURL((url) => JOB_URL.test(url.pathname) && !url.pathname.endsWith(firstId));
  const nextId = JOB_URL.exec(new URL(page.url()).pathname)![1]!;
  await expect(page.getByRole("link", { name: "the video it starts from" })).toHaveAttribute(
    "href",
    `/jobs/${firstId}`,
  );
  await expect(page.getByRole("img", { name: "The first frame you gave" })).toBeVisible();
  const status = (await (await page.request.get(`/api/status/${nextId}`)).json()) as {
    prompt: string;
    style: string;
    continuedFrom: string;
    images: { first: unknown };
  };
  expect(status).toMatchObject({ prompt: "a painted wall slowly comes into focus", continuedFrom: firstId });
  expect(status.images.first).not.toBeNull();

  // The continuation starts where the first video ended.
  const next = await finishedVideo(page);
  const endOfFirst = await meanColour(video, "last", LEFT);
  expect(colourDistance(await meanColour(next, 0, LEFT), endOfFirst)).toBeLessThan(24);

  await page.goto(`/jobs/${firstId}`);
  await expect(page.getByRole("link", { name: "the next video" })).toHaveAttribute("href", `/jobs/${nextId}`);
});

test("a text file renamed .png is refused with a message, and nothing starts", async ({ page }) => {
  const fake = path.join(dir, "notes.png");
  writeFileSync(fake, "shopping list: eggs, milk, bread\n");
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a quiet harbour at dawn");
  await page.getByLabel("First frame (optional)").setInputFiles(fake);
  await expect(
    page.getByText(
      "The first frame: “notes.png” is not a PNG, JPEG or WebP image (its contents say so, whatever its name).",
    ),
  ).toBeVisible();
  await expect(page.getByRole("img", { name: "First frame preview" })).toHaveCount(0);
  await expect(page.getByLabel("First frame (optional)")).toHaveAttribute("aria-invalid", "true");
});

test("an image pasted into the form becomes the first frame, and one dropped on the last frame becomes the last", async ({
  page,
}) => {
  const image = path.join(dir, "paste.png");
  await twoColourImage(image, BLUE, ORANGE);
  const bytes = [...readFileSync(image)];
  await page.goto("/");
  await waitForHydration(page);
  // A clipboard or a drag carrying a file, as the browser hands them to the page.
  const send = (kind: "paste" | "drop", selector: string, name: string) =>
    page.evaluate(
      ({ kind, selector, name, bytes }) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
        const target = document.querySelector(selector)!;
        const event =
          kind === "paste"
            ? new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
            : new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
        target.dispatchEvent(event);
      },
      { kind, selector, name, bytes },
    );
  await send("paste", "form", "pasted.png");
  await expect(page.getByRole("img", { name: "First frame preview" })).toBeVisible();
  await expect(page.getByText(/^pasted\.png, \d+ KB\./)).toBeVisible();
  await send("drop", '[data-testid="last-frame-drop"]', "dropped.png");
  await expect(page.getByRole("img", { name: "Last frame preview" })).toBeVisible();
  await expect(page.getByText(/^dropped\.png, \d+ KB\./)).toBeVisible();
});
