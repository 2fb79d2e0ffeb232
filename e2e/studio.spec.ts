import { expect, test, type Page } from "@playwright/test";
import { expectVideoSaved, screenshot, waitForHydration } from "./helpers";

/**
 * The studio around a job, with the local engine: history, remix, cancel and retry, delete,
 * download names, sharing, and what someone without the owner cookie can (not) do.
 */

const JOB_URL = /\/jobs\/([A-Za-z0-9_-]{22})$/;

type Settings = {
  style?: string;
  length?: string;
  aspectRatio?: string;
  resolution?: string;
  seed?: string;
  enhance?: boolean;
  sound?: boolean;
};

/** Fills the form on the home page, presses Generate and returns the new job's id. */
async function startVideo(page: Page, prompt: string, s: Settings = {}): Promise<string> {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
  if (s.style) {
    // Keyboard, as a user would: focus the swatch and select it with Space.
    await page.getByRole("radiogroup", { name: "Style" }).getByRole("radio", { name: s.style }).focus();
    await page.keyboard.press("Space");
  }
  if (s.length) await page.getByRole("combobox", { name: "Length" }).selectOption(s.length);
  if (s.aspectRatio) await page.getByRole("combobox", { name: "Aspect ratio" }).selectOption(s.aspectRatio);
  if (s.resolution) await page.getByRole("combobox", { name: "Resolution" }).selectOption(s.resolution);
  if (s.seed) await page.getByRole("textbox", { name: "Seed" }).fill(s.seed);
  if (s.enhance !== undefined)
    await page.getByRole("checkbox", { name: "Enhance prompt automatically" }).setChecked(s.enhance);
  if (s.sound !== undefined) await page.getByRole("checkbox", { name: "Add sound" }).setChecked(s.sound);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(JOB_URL);
  return JOB_URL.exec(new URL(page.url()).pathname)![1]!;
}

async function makeVideo(page: Page, prompt: string, s: Settings = {}): Promise<string> {
  const id = await startVideo(page, prompt, s);
  await expectVideoSaved(page);
  return id;
}

test("two videos appear in the history with thumbnails, and a remix pre-fills every field", async ({ page }) => {
  const promptA = "A red kite over green hills";
  const promptB = "Lanterns on a night river";
  const idA = await makeVideo(page, promptA, { style: "Anime" });
  const seedA = /seed (\d+)/.exec((await page.getByText(/seed \d+/).textContent()) ?? "")?.[1];
  expect(seedA).toBeTruthy();
  await expect(page.getByTestId("job-timing")).toContainText("Generating:");

  // The download is named after the prompt.
  const download = page.getByRole("link", { name: "Download" });
  await expect(download).toHaveAttribute("download", "a-red-kite-over-green-hills.mp4");
  const file = await page.request.get((await download.getAttribute("href"))!);
  expect(file.status()).toBe(200);
  expect(file.headers()["content-disposition"]).toContain('attachment; filename="a-red-kite-over-green-hills.mp4"');

  const idB = await makeVideo(page, promptB, {
    style: "Film noir",
    length: "4",
    aspectRatio: "1:1",
    resolution: "480p",
    seed: "4242",
    enhance: false,
    sound: true,
  });

  await page.goto("/history");
  await page.reload();
  for (const [id, prompt] of [
    [idA, promptA],
    [idB, promptB],
  ] as const) {
    const card = page.getByRole("listitem").filter({ has: page.getByRole("link", { name: prompt }) });
    await expect(card).toHaveCount(1);
    await expect(card.getByRole("link", { name: prompt })).toHaveAttribute("href", `/jobs/${id}`);
    await expect(card.getByText("Ready")).toBeVisible();
    await expect(card.locator("time")).toHaveText(/just now|minute/);
    const img = card.locator("img");
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
  }
  // Newest first.
  const links = await page
    .getByRole("listitem")
    .getByRole("link")
    .evaluateAll((els) => els.map((e) => e.getAttribute("href")));
  expect(links.indexOf(`/jobs/${idB}`)).toBeLessThan(links.indexOf(`/jobs/${idA}`));
  await screenshot(page, "history");

  // Remix B from its job page: every field comes back, the seed locked.
  await page.goto(`/jobs/${idB}`);
  await page.getByRole("link", { name: "Remix" }).click();
  await page.waitForURL(`/?remix=${idB}`);
  await waitForHydration(page);
  await expect(page.getByText(/Remixing/)).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Prompt", exact: true })).toHaveValue(promptB);
  await expect(page.getByRole("radio", { name: "Film noir" })).toBeChecked();
  await expect(page.getByRole("combobox", { name: "Model" })).toHaveValue("local/preview");
  await expect(page.getByRole("combobox", { name: "Length" })).toHaveValue("4");
  await expect(page.getByRole("combobox", { name: "Aspect ratio" })).toHaveValue("1:1");
  await expect(page.getByRole("combobox", { name: "Resolution" })).toHaveValue("480p");
  await expect(page.getByRole("textbox", { name: "Seed" })).toHaveValue("4242");
  await expect(page.getByRole("checkbox", { name: "Lock seed" })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Enhance prompt automatically" })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Add sound" })).toBeChecked();
  // The local preview takes no negative prompt, so the form shows none to fill.
  await expect(page.getByRole("textbox", { name: "Negative prompt" })).toHaveCount(0);
  await screenshot(page, "remix");

  // The remix posts remixOf: the new job records where it came from.
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(JOB_URL);
  const remixId = JOB_URL.exec(new URL(page.url()).pathname)![1]!;
  const status = (await (await page.request.get(`/api/status/${remixId}`)).json()) as {
    remixOf: string;
    params: { seed: number };
  };
  expect(status.remixOf).toBe(idB);
  expect(status.params.seed).toBe(4242);

  // A's random seed comes back too (remix from the URL).
  await page.goto(`/?remix=${idA}`);
  await waitForHydration(page);
  await expect(page.getByRole("textbox", { name: "Seed" })).toHaveValue(seedA!);
  await expect(page.getByRole("radio", { name: "Anime" })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Enhance prompt automatically" })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Add sound" })).not.toBeChecked();
});

test("the enhanced prompt is shown beside the original, edited and sent", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("A fox in the snow");
  await page.getByRole("button", { name: "Enhance" }).click();
  const enhanced = page.getByRole("textbox", { name: /Enhanced prompt/ });
  await expect(enhanced).toHaveValue(/fox in the snow/i);
  await expect(page.getByText("Rule-based enhancer: no LLM is configured.")).toBeVisible();

  // Discard, then enhance again and edit.
  await page.getByRole("button", { name: "Discard enhanced prompt" }).click();
  await expect(enhanced).toHaveCount(0);
  await page.getByRole("button", { name: "Enhance" }).click();
  await enhanced.fill("A red fox trotting through fresh snow, low golden light, edited by hand");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(JOB_URL);

  const steps = page.getByRole("region", { name: "Steps" });
  await expect(steps.getByRole("listitem")).toHaveCount(4);
  await expect(steps.getByRole("listitem").nth(0)).toContainText("Enhance prompt");
  await expect(steps.getByRole("listitem").nth(0)).toContainText("Done · by you");
  await expect(steps.getByRole("listitem").nth(0)).toContainText("edited by you");
  await expect(steps.getByRole("listitem").nth(2)).toContainText(/Add sound\s*Skipped/);
  await expect(page.getByText("A red fox trotting through fresh snow, low golden light, edited by hand")).toBeVisible();
  await expectVideoSaved(page);
  await expect(steps.getByRole("listitem").nth(1)).toContainText("Generate video");
  await expect(steps.getByRole("listitem").nth(3)).toContainText(/Save video\s*Done/);

  // A remix keeps the edited prompt, and automatic enhancement stays off.
  await page.getByRole("link", { name: "Remix" }).click();
  await page.waitForURL(/\/\?remix=/);
  await waitForHydration(page);
  await expect(page.getByRole("textbox", { name: /Enhanced prompt/ })).toHaveValue(
    "A red fox trotting through fresh snow, low golden light, edited by hand",
  );
  await expect(page.getByRole("checkbox", { name: "Enhance prompt automatically" })).not.toBeChecked();
});

test("a running job can be canceled, retried as a new job, and deleted", async ({ page }) => {
  const prompt = "Slow clouds over a harbor";
  const id = await startVideo(page, prompt, { length: "6", resolution: "480p" });
  await waitForHydration(page, "[data-testid=job-message]");
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  await expect(page).toHaveTitle(/^Canceled/);
  await expect(page.getByText("Canceled", { exact: true }).first()).toBeVisible();
  await expect(page.locator("video")).toHaveCount(0);
  await screenshot(page, "job-canceled");

  await page.getByRole("button", { name: "Retry" }).click();
  await page.waitForURL((url) => JOB_URL.test(url.pathname) && !url.pathname.endsWith(id));
  const retriedId = JOB_URL.exec(new URL(page.url()).pathname)![1]!;
  await expectVideoSaved(page);
  await expect(page.getByText(prompt).first()).toBeVisible();

  // Delete asks first; keeping it changes nothing.
  await page.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this video?" });
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await page.getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL("/history");
  await expect(page.locator(`a[href="/jobs/${id}"]`)).toHaveCount(1);
  await expect(page.locator(`a[href="/jobs/${retriedId}"]`)).toHaveCount(0);
  expect((await page.request.get(`/api/status/${retriedId}`)).status()).toBe(404);
});

test("a shared video plays for anyone at its share link; only its owner can change it", async ({
  page,
  context,
  browser,
  request,
  baseURL,
}) => {
  const prompt = "A paper boat on a pond";
  const id = await makeVideo(page, prompt);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL! });

  const toggle = page.getByRole("switch", { name: "Public share page" });
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  const linkBox = page.getByRole("textbox", { name: "Share link" });
  await expect(linkBox).toHaveValue(new RegExp(`^${baseURL}/v/[A-Za-z0-9_-]{32}$`));
  const shareUrl = await linkBox.inputValue();
  const sharePath = new URL(shareUrl).pathname;
  // The share link is its own token: it does not carry the job's id.
  expect(shareUrl).not.toContain(id);
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText("Link copied.")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shareUrl);

  // The share page's HTML carries Open Graph video tags with absolute URLs, through the token.
  const html = await (await request.get(sharePath)).text();
  const meta = (property: string) =>
    new RegExp(`<meta (?:property|name)="${property}" content="([^"]*)"`).exec(html)?.[1];
  const token = sharePath.split("/").pop()!;
  expect(meta("og:type")).toBe("video.other");
  expect(meta("og:video")).toMatch(new RegExp(`^http://localhost:\\d+/api/shared/${token}/video\\.mp4$`));
  expect(meta("og:video:type")).toBe("video/mp4");
  expect(meta("og:video:width")).toBe("640");
  expect(meta("og:video:height")).toBe("360");
  expect(meta("og:image")).toMatch(new RegExp(`^http://localhost:\\d+/api/shared/${token}/poster\\.jpg$`));
  expect(meta("twitter:card")).toBe("player");
  expect(meta("twitter:player")).toBe(`${shareUrl}/embed`);
  expect(meta("twitter:player:stream")).toBe(meta("og:video"));
  expect(meta("twitter:player:width")).toBe("640");
  expect(meta("twitter:player:height")).toBe("360");
  expect(html).toContain(`<title>${prompt} · Prompt2Video</title>`);
  expect(html).not.toContain(id);

  // A stranger: a fresh browser context, no owner cookie.
  const stranger = await browser.newContext({ baseURL });
  const other = await stranger.newPage();
  await other.goto(sharePath);
  await expect(other.getByRole("heading", { level: 1, name: prompt })).toBeVisible();
  await expect(other.getByText("Made with: Local preview (not AI)")).toBeVisible();
  const video = other.locator("video");
  await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
    .toBeGreaterThan(0);
  await expect(other.getByRole("link", { name: "Remix this video" })).toHaveAttribute("href", `/?remix=${token}`);
  await screenshot(other, "share");

  // The player card's frame: a bare player that other sites may frame, and nothing else may.
  const embed = await other.goto(`${sharePath}/embed`);
  expect(embed?.status()).toBe(200);
  expect(await embed?.headerValue("content-security-policy")).toContain("frame-ancestors 'self' https:");
  await expect(other.locator("video")).toHaveAttribute("src", meta("og:video")!);

  // The job itself stays its owner's: its page and API answer the stranger as for no job at all.
  expect((await other.goto(`/jobs/${id}`))?.status()).toBe(404);
  await expect(other.locator("video")).toHaveCount(0);
  expect((await other.request.post(`/api/jobs/${id}/cancel`)).status()).toBe(404);
  const refused = await other.request.delete(`/api/jobs/${id}`);
  expect(refused.status()).toBe(404);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
    "There is no job with that id. It may have been deleted.",
  );
  expect((await other.request.get(`/api/status/${id}`)).status()).toBe(404);
  expect((await page.request.post(`/api/jobs/${id}/cancel`)).status()).toBe(409);

  // The stranger may remix a shared video through its token, and has no history of their own.
  await other.goto(`/?remix=${token}`);
  await expect(other.getByRole("textbox", { name: "Prompt", exact: true })).toHaveValue(prompt);
  await other.goto("/history");
  await expect(other.getByRole("heading", { name: "No videos yet" })).toBeVisible();
  await expect(other.getByRole("link", { name: "Make your first video" })).toBeVisible();
  await screenshot(other, "history-empty");

  // The owner takes the page down: it is gone for everyone, remix included.
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  const gone = await other.goto(sharePath);
  expect(gone?.status()).toBe(404);
  expect((await other.goto(`${sharePath}/embed`))?.status()).toBe(404);
  await other.goto(`/?remix=${token}`);
  await expect(other.getByText("That video cannot be remixed here")).toBeVisible();
  await expect(other.getByRole("textbox", { name: "Prompt", exact: true })).toHaveValue("");

  // The owner may delete it through the API as well: the job and its video are gone.
  const ownVideo = (await (await page.request.get(`/api/status/${id}`)).json()) as { videoUrl: string };
  expect((await page.request.delete(`/api/jobs/${id}`)).status()).toBe(204);
  expect((await page.request.get(`/api/status/${id}`)).status()).toBe(404);
  expect((await page.request.get(ownVideo.videoUrl)).status()).toBe(404);
  await stranger.close();
});
