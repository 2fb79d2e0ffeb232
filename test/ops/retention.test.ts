import { existsSync } from "node:fs";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../support/app-harness";
import { makeJob } from "../support/job-factory";
import { applyRetention } from "@/lib/ops/retention";

let app: AppHarness;
beforeEach(async () => {
  app = await startAppHarness({ env: { JOB_RETENTION_DAYS: "30" } });
});
afterEach(async () => {
  await app.close();
});

async function withVideo(createdAt: number) {
  const job = makeJob({ createdAt, updatedAt: createdAt, status: "succeeded" });
  await app.store.create(job);
  const dir = path.join(app.dataDir, "videos", job.id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "video.mp4"), "not really a video");
  return { job, dir };
}

it("removes jobs past the retention period with their files, and old renders, and keeps the rest", async () => {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  const old = await withVideo(now - 40 * day);
  const fresh = await withVideo(now - 2 * day);
  const renders = path.join(app.dataDir, "renders");
  await mkdir(renders, { recursive: true });
  const oldRender = path.join(renders, "lp_old.mp4");
  const newRender = path.join(renders, "lp_new.mp4");
  await writeFile(oldRender, "x");
  await writeFile(newRender, "x");
  await utimes(oldRender, new Date(now - 3 * day), new Date(now - 3 * day));

  const removed = await applyRetention(now);

  expect(removed).toEqual({ jobs: 1, videoDirs: 1, renders: 1 });
  expect(await app.store.get(old.job.id)).toBeNull();
  expect(existsSync(old.dir)).toBe(false);
  expect(await app.store.get(fresh.job.id)).not.toBeNull();
  expect(existsSync(fresh.dir)).toBe(true);
  expect(existsSync(oldRender)).toBe(false);
  expect(existsSync(newRender)).toBe(true);
});
