import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { startFakeReplicate, type FakeReplicate } from "../test/support/fake-replicate";
import { twoColourImage } from "../test/support/frame-colours";
import { waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg } from "./support/gated-ffmpeg";
import { stopAfterEach } from "./support/stop-after-each";

/**
 * One submission, several videos side by side: 3 takes of a prompt on the local preview (its
 * renders held at an ffmpeg gate until the page has shown them running), and one prompt on
 * 2 models through the Replicate-compatible test server (held until the test ends each run).
 * Each member follows its own job live and ends playing beside the others.
 */

const GROUP_URL = /\/groups\/([A-Za-z0-9_-]{22})$/;

let server: AppServer | undefined;
let fake: FakeReplicate | undefined;

stopAfterEach(
  () => server,
  () => fake,
);

const dataDir = () => mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-groups-"));

async function expectPlaying(member: Locator) {
  const video = member.locator("video");
  await expect(video).toBeVisible({ timeout: 60_000 });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
}

/** The members share a row: same top, left to right. */
async function expectSideBySide(members: Locator[]) {
  const boxes = await Promise.all(members.map((m) => m.boundingBox()));
  for (let i = 1; i < boxes.length; i++) {
    expect(Math.abs(boxes[i]!.y - boxes[0]!.y)).toBeLessThan(2);
    expect(boxes[i]!.x).toBeGreaterThan(boxes[i - 1]!.x + boxes[i - 1]!.width - 1);
  }
}

async function openForm(page: Page, origin: string, prompt: string) {
  await page.goto(`${origin}/`);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
  await page.getByRole("checkbox", { name: "Enhance prompt automatically" }).setChecked(false);
}

test("3 takes of one prompt: a group page where each take progresses and plays side by side, one card in the history", async ({
  page,
}) => {
  const gate = gatedFfmpeg();
  server = await startAppServer(await freePort(), {
    DATA_DIR: dataDir(),
    FFMPEG_PATH: gate.path,
    MAX_RUNNING_JOBS_PER_BROWSER: "4",
  });
  const { origin } = server;

  await openForm(page, origin, "a paper lantern drifting over a dark lake");
  await page.getByRole("combobox", { name: "Takes" }).selectOption("3");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(GROUP_URL);
  const groupId = GROUP_URL.exec(new URL(page.url()).pathname)![1]!;
  await expect(page.getByRole("heading", { name: "3 takes", level: 1 })).toBeVisible();

  const members = [1, 2, 3].map((n) => page.getByRole("listitem", { name: `Take ${n}` }));
  // While the renders are held, every take shows its own live progress, and no video yet.
  for (const [i, member] of members.entries()) {
    await expect(member.getByRole("progressbar", { name: `Progress of Take ${i + 1}` })).toBeVisible();
    await expect(member.locator("video")).toHaveCount(0);
  }
  const seeds = await Promise.all(members.map((m) => m.getByText(/seed \d+/).textContent()));
  expect(new Set(seeds).size).toBe(3);

  gate.open();
  // Without a reload: each take's stream brings it to its video.
  for (const member of members) await expectPlaying(member);
  await expectSideBySide(members);
  for (const [i, member] of members.entries()) {
    await expect(member.getByRole("link", { name: `Open Take ${i + 1}` })).toHaveAttribute(
      "href",
      /^\/jobs\/[A-Za-z0-9_-]{22}$/,
    );
    await expect(member.getByRole("link", { name: `Download Take ${i + 1}` })).toBeVisible();
    await expect(member.getByRole("link", { name: `Remix Take ${i + 1}` })).toBeVisible();
    await expect(member.getByRole("switch")).toBeVisible();
  }

  await page.goto(`${origin}/history`);
  const cards = page.getByRole("main").getByRole("listitem");
  await expect(cards).toHaveCount(1);
  await expect(cards.first().getByText("3 takes, side by side")).toBeVisible();
  await expect(cards.first().getByRole("link")).toHaveAttribute("href", `/groups/${groupId}`);

  // The group is its owner's: anyone else finds no such page.
  const other = await page.context().browser()!.newContext();
  const stranger = await other.newPage();
  const answer = await stranger.goto(`${origin}/groups/${groupId}`);
  expect(answer?.status()).toBe(404);
  await expect(stranger.getByRole("heading", { name: "We could not find that page." })).toBeVisible();
  await other.close();
});

test("one prompt on 2 models: both progress and play side by side", async ({ page }) => {
  // Runs stay processing (with progress in their logs) until the test ends them.
  fake = await startFakeReplicate({ timing: { startingMs: 200, processingMs: 600_000, ticks: 600 } });
  server = await startAppServer(await freePort(), {
    DATA_DIR: dataDir(),
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_BASE_URL: fake.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
  });
  const { origin } = server;

  await openForm(page, origin, "a hummingbird hovering by a red flower");
  const modelMenu = page.getByRole("combobox", { name: "Model" });
  await expect(modelMenu).toHaveValue("bytedance/seedance-1-lite");

  // A first frame is kept while a model that takes none is chosen, and the form says so.
  const image = path.join(dataDir(), "frame.png");
  await twoColourImage(image, [30, 144, 220], [220, 90, 30]);
  await page.getByLabel("First frame (optional)").setInputFiles(image);
  const preview = page.getByRole("img", { name: "First frame preview" });
  await expect(preview).toBeVisible();
  await modelMenu.selectOption({ label: "Wan 2.2 (fast)" });
  await expect(
    page.getByText("Wan 2.2 (fast) takes no images. Yours is kept, and sent if you pick a model that takes one."),
  ).toBeVisible();
  await expect(preview).toBeVisible();
  await modelMenu.selectOption("bytedance/seedance-1-lite");
  await expect(page.getByText(/takes no images/)).toHaveCount(0);
  await expect(preview).toBeVisible();
  await page.getByRole("button", { name: "Remove the first frame" }).click();
  await expect(preview).toHaveCount(0);

  await page.getByRole("group", { name: "Compare with" }).getByRole("checkbox", { name: "Wan 2.2 (fast)" }).check();
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(GROUP_URL);
  await expect(page.getByRole("heading", { name: "2 models compared", level: 1 })).toBeVisible();

  const members = ["Seedance 1 Lite", "Wan 2.2 (fast)"].map((name) => page.getByRole("listitem", { name }));
  for (const [i, member] of members.entries()) {
    await expect(member.getByTestId("member-message")).toHaveText(/Generating/, { timeout: 30_000 });
    await expect(
      member.getByRole("progressbar", { name: `Progress of ${["Seedance 1 Lite", "Wan 2.2 (fast)"][i]}` }),
    ).toBeVisible();
  }
  const videoRuns = [...fake.predictions.values()].filter((p) => /seedance|wan-video/.test(p.prediction.model));
  expect(videoRuns.map((p) => p.prediction.model).sort()).toEqual([
    "bytedance/seedance-1-lite",
    "wan-video/wan-2.2-t2v-fast",
  ]);
  for (const run of videoRuns) fake.complete(run.prediction.id);

  for (const member of members) await expectPlaying(member);
  await expectSideBySide(members);
});
