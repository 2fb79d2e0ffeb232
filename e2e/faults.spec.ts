import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { startFakeReplicate, type FakeReplicate } from "../test/support/fake-replicate";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { gatedFfmpeg } from "./support/gated-ffmpeg";
import { stopAfterEach } from "./support/stop-after-each";

/**
 * Faults against the real server process (`next start`): a lost final webhook with nobody
 * watching, `kill -9` at each stage of starting and finishing a Replicate step, and a graceful
 * stop (SIGTERM) in the middle of a local render. Nobody opens the job page: jobs are created
 * and followed through `POST /api/jobs` and `GET /api/jobs` (which only read the store), so
 * whatever moves a job on is the server's own sweeper. Each test waits on the job's state.
 */

type PublicStep = { name: string; state: string; attempt: number };
type PublicJob = {
  id: string;
  status: string;
  stage: string;
  videoUrl: string | null;
  error: string | null;
  steps: PublicStep[];
};

let server: AppServer | undefined;
let fake: FakeReplicate | undefined;

stopAfterEach(
  () => server,
  () => fake,
);

function replicateEnv(f: FakeReplicate): Record<string, string> {
  return {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-faults-")),
    REPLICATE_API_TOKEN: f.token,
    REPLICATE_BASE_URL: f.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: f.signingSecret,
    SWEEP_INTERVAL_SECONDS: "2",
    RECONCILE_AFTER_SECONDS: "2",
  };
}

async function createJob(
  request: APIRequestContext,
  origin: string,
  model = "wan-video/wan-2.2-t2v-fast",
): Promise<string> {
  const res = await request.post(`${origin}/api/jobs`, {
    data: { prompt: "a kingfisher diving into a clear stream", style: "photoreal", model, enhance: false },
  });
  expect(res.status()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The job as its owner's list shows it: a read of the store that nudges nothing. */
async function listed(request: APIRequestContext, origin: string, id: string): Promise<PublicJob | undefined> {
  const res = await request.get(`${origin}/api/jobs`);
  if (!res.ok()) return undefined;
  return ((await res.json()) as { jobs: PublicJob[] }).jobs.find((j) => j.id === id);
}

/** Waits until the job has ended; the generous timeout only keeps a broken run from hanging. */
async function ended(request: APIRequestContext, origin: string, id: string): Promise<PublicJob> {
  let job: PublicJob | undefined;
  await expect
    .poll(async () => (job = await listed(request, origin, id))?.status, { timeout: 240_000, intervals: [250] })
    .toMatch(/^(succeeded|failed|canceled)$/);
  return job!;
}

const attemptOf = (job: PublicJob, step: string) => job.steps.find((s) => s.name === step)?.attempt;

/** The video is our copy: it plays from our storage after the provider deleted its own. */
async function expectOurCopy(request: APIRequestContext, origin: string, job: PublicJob) {
  expect(job.videoUrl).toMatch(new RegExp(`^/api/files/${job.id}/`));
  fake?.deleteOutputs();
  const res = await request.get(`${origin}${job.videoUrl}`);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("video/mp4");
  expect((await res.body()).length).toBeGreaterThan(1000);
}

test("a dropped final webhook with APP_URL set and no page open: the sweeper finishes the job and saves the video", async ({
  request,
}) => {
  fake = await startFakeReplicate({ timing: { startingMs: 200, processingMs: 1_000, ticks: 4 } });
  fake.dropDeliveries(["completed"]);
  const port = await freePort();
  server = await startAppServer(port, { ...replicateEnv(fake), APP_URL: `http://127.0.0.1:${port}` });
  const id = await createJob(request, server.origin);

  const done = await ended(request, server.origin, id);
  expect(done.status).toBe("succeeded");
  const [prediction] = [...fake.predictions.keys()];
  // The run's completion was never delivered; its progress was.
  expect(fake.dropped.filter((d) => d.predictionId === prediction).map((d) => d.event)).toContain("completed");
  expect(fake.deliveries.some((d) => d.predictionId === prediction && d.status === 200)).toBe(true);
  expect(fake.deliveries.some((d) => d.event === "completed")).toBe(false);
  expect(fake.predictions.size).toBe(1);
  await expectOurCopy(request, server.origin, done);
});

test("kill -9 between the create and recording its id, then a restart: one prediction, and the job succeeds", async ({
  request,
}) => {
  test.setTimeout(300_000);
  // The prediction exists at once; the answer to the create comes too late for the process.
  fake = await startFakeReplicate({
    createDelayMs: 60_000,
    slowCreates: 1,
    timing: { startingMs: 200, processingMs: 1_000, ticks: 4 },
  });
  const port = await freePort();
  const env = replicateEnv(fake);
  server = await startAppServer(port, env);
  const id = await createJob(request, server.origin);
  await expect.poll(() => fake!.predictions.size, { timeout: 30_000, intervals: [50] }).toBe(1);
  await server.kill();

  server = await startAppServer(port, env);
  const done = await ended(request, server.origin, id);
  expect(done.status).toBe("succeeded");
  expect(fake.predictions.size).toBe(1);
  expect(attemptOf(done, "generate")).toBe(1);
  await expectOurCopy(request, server.origin, done);
});

test("kill -9 before the create reached Replicate, then a restart: the step starts again, one prediction", async ({
  request,
}) => {
  test.setTimeout(300_000);
  fake = await startFakeReplicate({ timing: { startingMs: 200, processingMs: 1_000, ticks: 4 } });
  const gate = fake.holdCreates();
  const port = await freePort();
  const env = replicateEnv(fake);
  server = await startAppServer(port, env);
  const id = await createJob(request, server.origin);
  await gate.arrived;
  await server.kill();
  // The provider has seen the connection close before the gate opens: the create never reached it.
  await gate.abandoned;
  gate.release();

  server = await startAppServer(port, env);
  const done = await ended(request, server.origin, id);
  expect(done.status).toBe("succeeded");
  expect(fake.predictions.size).toBe(1);
  expect(attemptOf(done, "generate")).toBe(2);
  await expectOurCopy(request, server.origin, done);
});

test("kill -9 during the copy of the video, then a restart: the copy is redone and the job succeeds", async ({
  request,
}) => {
  test.setTimeout(300_000);
  fake = await startFakeReplicate({ timing: { startingMs: 200, processingMs: 1_000, ticks: 4 } });
  let arrived!: () => void;
  const copying = new Promise<void>((resolve) => (arrived = resolve));
  const release = fake.holdDownloads(() => {
    arrived();
    return true;
  });
  const port = await freePort();
  const env = replicateEnv(fake);
  server = await startAppServer(port, env);
  const id = await createJob(request, server.origin);
  await copying;
  expect((await listed(request, server.origin, id))?.stage).toBe("saving");
  await server.kill();
  release();

  server = await startAppServer(port, env);
  const done = await ended(request, server.origin, id);
  expect(done.status).toBe("succeeded");
  expect(attemptOf(done, "save")).toBe(2);
  expect(fake.predictions.size).toBe(1);
  await expectOurCopy(request, server.origin, done);
});

test("SIGTERM mid-render, then a restart: the server stops gracefully and the render is redone", async ({
  request,
}) => {
  const gate = gatedFfmpeg();
  const port = await freePort();
  const env = {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-faults-")),
    FFMPEG_PATH: gate.path,
    SWEEP_INTERVAL_SECONDS: "2",
  };
  server = await startAppServer(port, env);
  const id = await createJob(request, server.origin, "local/preview");
  // The render is held at the gate: ffmpeg is running for it.
  await expect
    .poll(async () => (await listed(request, server!.origin, id))?.stage, { timeout: 30_000, intervals: [100] })
    .toBe("generating");

  expect(await server.stop()).toBe(143);
  // Cut off, not failed: nothing reported the render as failed before the process exited.
  gate.open();
  server = await startAppServer(port, env);
  const done = await ended(request, server.origin, id);
  expect(done.status).toBe("succeeded");
  expect(attemptOf(done, "generate")).toBe(2);
  const video = await request.get(`${server.origin}${done.videoUrl}`);
  expect(video.status()).toBe(200);
});
