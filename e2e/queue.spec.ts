import { expect, test } from "@playwright/test";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg, type GatedFfmpeg } from "./support/gated-ffmpeg";

/**
 * The line as a person sees it, on a server that lets one job run at a time (MAX_RUNNING_JOBS=1)
 * and holds the first render at an ffmpeg gate: the wait before Generate, the place in line on
 * the job page, the history and the status API, the place moving up live, and the three jobs
 * finishing in order by themselves, with no page open and no request from anyone.
 */

let server: AppServer;
let ffmpeg: GatedFfmpeg;
let dataDir: string;
test.beforeAll(async () => {
  ffmpeg = gatedFfmpeg();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-queue-"));
  server = await startAppServer(await freePort(), {
    DATA_DIR: dataDir,
    FFMPEG_PATH: ffmpeg.path,
    MAX_RUNNING_JOBS: "1",
  });
});
test.afterAll(async () => {
  await server?.kill();
});

type Stored = { status: string; completedAt: number | null; steps: { name: string; startedAt: number | null }[] };
/** A job as the server stored it, read from its file: looking at it sends no request. */
function stored(id: string): Stored | null {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, "jobs", `${id}.json`), "utf8")) as Stored;
  } catch {
    return null;
  }
}

test("three jobs with one slot: one renders, the others show places 1 and 2, and all finish in order", async ({
  page,
}) => {
  const origin = server.origin;
  await page.goto(`${origin}/`);
  await expect(page.getByTestId("queue-notice")).toHaveText("No wait right now: a new video starts at once.");

  const ids: string[] = [];
  for (const prompt of [
    "a paper boat on a rainy street",
    "a lantern drifting over a lake",
    "a red fox running through snow",
  ]) {
    const res = await page.request.post(`${origin}/api/jobs`, {
      data: { prompt, style: "anime", model: "local/preview", duration: 4, enhance: false },
    });
    expect(res.status()).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const [first, second, third] = ids as [string, string, string];

  // The status API: the first holds the slot (its render waits at the gate), the others wait 1st and 2nd.
  const status = async (id: string) =>
    (await (await page.request.get(`${origin}/api/status/${id}`)).json()) as Record<string, unknown>;
  await expect.poll(async () => (await status(first)).queuePosition).toBeNull();
  expect(await status(first)).toMatchObject({ queueWaitSeconds: null });
  expect((await status(first)).status).not.toBe("queued");
  expect(await status(second)).toMatchObject({ status: "queued", queuePosition: 1 });
  expect(await status(third)).toMatchObject({ status: "queued", queuePosition: 2 });

  // Before Generate, the home page tells what a new job would wait for.
  await page.goto(`${origin}/`);
  await expect(page.getByTestId("queue-notice")).toContainText("2 videos are waiting; a new one would start in");

  // The pages: each waiting job's place, and the history lists both.
  await page.goto(`${origin}/jobs/${second}`);
  await expect(page.getByTestId("queue-place")).toHaveText(/^Place in line: 1 · you are next/);
  await page.goto(`${origin}/history`);
  await expect(page.getByTestId("queue-place")).toHaveText([
    /^Place in line: 2 · 1 ahead of you/,
    /^Place in line: 1 · you are next/,
  ]);

  // The third job's page follows the line live: once the first job ends, it is next.
  await page.goto(`${origin}/jobs/${third}`);
  await expect(page.getByTestId("queue-place")).toHaveText(
    /^Place in line: 2 · 1 ahead of you · starts in .* \(estimate\)$/,
  );
  ffmpeg.open();
  await expect(page.getByTestId("queue-place")).toHaveText(/^Place in line: 1 · you are next/, { timeout: 120_000 });

  // Nobody watches from here on: the line moves from the end of each job alone.
  await page.close();
  await expect
    .poll(() => ids.map((id) => stored(id)?.status), { timeout: 180_000, intervals: [250] })
    .toEqual(["succeeded", "succeeded", "succeeded"]);
  const jobs = ids.map((id) => stored(id)!);
  const generateStart = (j: Stored) => j.steps.find((s) => s.name === "generate")!.startedAt!;
  expect(generateStart(jobs[0]!)).toBeLessThan(generateStart(jobs[1]!));
  expect(generateStart(jobs[1]!)).toBeLessThan(generateStart(jobs[2]!));
  // One at a time: each started only after the one before had ended.
  expect(generateStart(jobs[1]!)).toBeGreaterThanOrEqual(jobs[0]!.completedAt!);
  expect(generateStart(jobs[2]!)).toBeGreaterThanOrEqual(jobs[1]!.completedAt!);
});
