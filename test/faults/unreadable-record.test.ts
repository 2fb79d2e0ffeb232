import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { GET as health } from "@/app/api/health/route";
import type { HealthReport } from "@/lib/ops/health";
import { applyRetention } from "@/lib/ops/retention";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { ownerFetch, TEST_OWNER_ID } from "@/test/support/owner";
import { deliver, generatingJob, newWebhookId, refOf, tqdmLine } from "@/test/faults/support";

/**
 * A job whose file was damaged on disk, through the app's own routes: the webhook answers 500
 * (so the engine retries) instead of 200 "unknown job", the status route tells its owner (500, not 404),
 * /api/health reports it, and retention keeps its video even long past the retention period.
 */

let app: AppHarness | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const DAY = 86_400_000;

it("an unreadable job file: webhook 500, status not 404, health degraded, the video kept", async () => {
  app = await startAppHarness({ env: { JOB_RETENTION_DAYS: "30" } });
  const job = generatingJob({ ownerId: TEST_OWNER_ID });
  await app.store.create(job);
  const videoDir = path.join(app.dataDir, "videos", job.id);
  await mkdir(videoDir, { recursive: true });
  await writeFile(path.join(videoDir, "video.mp4"), "the saved video");

  const progress = (n: number) => JSON.stringify({ id: refOf(job.id), status: "processing", logs: tqdmLine(n, 25) });
  const applied = await deliver(app.origin, { jobId: job.id, webhookId: newWebhookId(), body: progress(1) });
  expect(await applied.json()).toMatchObject({ ok: true, applied: true });

  // Damaged on disk: cut off in the middle.
  const file = path.join(app.dataDir, "jobs", `${job.id}.json`);
  await writeFile(file, (await readFile(file, "utf8")).slice(0, 100));

  const webhookId = newWebhookId();
  for (let i = 0; i < 2; i++) {
    // Twice with the same id: a refused delivery is not marked as seen, so the engine's retry is not a "duplicate".
    const res = await deliver(app.origin, { jobId: job.id, webhookId, body: progress(2) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toMatch(/cannot be read/);
    expect(body.error.message).toMatch(/Nothing was deleted/);
  }

  // Its owner is told the record cannot be read; anyone else still sees nothing at all.
  const asTheOwner = await ownerFetch();
  expect((await asTheOwner(`${app.origin}/api/status/${job.id}`)).status).toBe(500);
  expect((await fetch(`${app.origin}/api/status/${job.id}`)).status).toBe(404);

  const res = await health();
  const report = (await res.json()) as HealthReport;
  expect(res.status).toBe(200);
  expect(report).toMatchObject({ ok: false, status: "degraded", store: { ok: true, unreadable: 1 } });
  expect(report.store.error).toMatch(/1 stored record cannot be read/);

  // Long past the retention period: the job record is not swept (it is set aside) and the video stays.
  const removed = await applyRetention(Date.now() + 60 * DAY);
  expect(removed.videoDirs).toBe(0);
  expect(existsSync(path.join(videoDir, "video.mp4"))).toBe(true);
  const aside = await readdir(path.join(app.dataDir, "quarantine", "jobs"));
  expect(aside).toHaveLength(1);
  expect(aside[0]).toMatch(new RegExp(`^${job.id}\\.`));
});
