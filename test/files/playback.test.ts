import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GET, HEAD } from "@/app/api/files/[jobId]/[file]/route";
import { resetEnvCache } from "@/lib/env";
import { localVideoStore } from "@/lib/files";
import { videoKey } from "@/lib/files/types";
import { toPublicJob } from "@/lib/jobs/domain/public";
import type { Job } from "@/lib/core/job";
import { derive } from "@/lib/jobs/domain/derive-status";
import { videoFileName } from "@/lib/jobs/domain/video-source";
import { setStoreForTests } from "@/lib/store";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { makeJob, makeStep } from "@/test/support/job-factory";
import { ownerCookie } from "@/test/support/owner";

/**
 * The playback URL: while a job's video is being saved, the file route streams it from the
 * engine's output (the provider's file with the player's Range sent on, or the local render);
 * once our copy exists, the same URL serves the copy, also after the provider deleted its own.
 */

let dir: string;
let fake: FakeReplicate;
let store: EmbeddedStore;
let sample: Buffer;
const saved = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "p2v-playback-"));
  fake = await startFakeReplicate({ timing: { startingMs: 5, processingMs: 10, ticks: 1 } });
  process.env.DATA_DIR = dir;
  // The fake's host is then an allowed provider host, as Replicate's file hosts are.
  process.env.REPLICATE_BASE_URL = fake.baseUrl;
  process.env.REPLICATE_API_TOKEN = fake.token;
  resetEnvCache();
  store = new EmbeddedStore({ dir, retentionDays: 30 });
  setStoreForTests(store);
  sample = await readFile(await (await import("@/test/support/fake-replicate")).sampleVideoPath());
});

afterAll(async () => {
  setStoreForTests(null);
  await store.close();
  await fake.close();
  process.env = saved;
  resetEnvCache();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.downloads.length = 0;
});

/** A finished prediction at the fake provider; its output URL. */
async function providerOutput(): Promise<string> {
  const res = await fetch(`${fake.baseUrl}/models/wan-video/wan-2.2-t2v-fast/predictions`, {
    method: "POST",
    headers: { authorization: `Bearer ${fake.token}`, "content-type": "application/json" },
    body: JSON.stringify({ input: { prompt: "x" } }),
  });
  const { id } = (await res.json()) as { id: string };
  const done = await fake.settled(id);
  return String(done.output);
}

/** A job whose model is done and whose save step is running: what the page sees as "saving". */
async function savingJob(output: string, overrides: Partial<Job> = {}): Promise<Job> {
  const now = Date.now();
  const job = derive(
    makeJob({
      engine: "replicate",
      prompt: "A paper boat on a rainy street",
      steps: [
        makeStep("enhance", { state: "skipped" }),
        makeStep("generate", { state: "done", engine: "replicate", output, progress: 100, completedAt: now }),
        makeStep("sound", { state: "skipped" }),
        makeStep("save", { state: "running", attempt: 1, startedAt: now, runningAt: now, progress: 0 }),
      ],
      ...overrides,
    }),
  );
  await store.create(job);
  return job;
}

/** As the job's owner: anyone else is answered 404 (lib/jobs/adapters/access.ts). */
const call = async (
  handler: typeof GET,
  job: Job,
  headers: Record<string, string> = {},
  file = videoFileName(job.prompt),
) =>
  handler(
    new Request(`http://app.test/api/files/${job.id}/${file}`, {
      headers: { cookie: await ownerCookie(), ...headers },
    }),
    { params: Promise.resolve({ jobId: job.id, file }) },
  );

const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe("the playback URL while the video is being saved", () => {
  it("is in the public record as soon as the model is done, and the provider's URL is not", async () => {
    const output = await providerOutput();
    const job = await savingJob(output);
    const pub = toPublicJob(job);
    expect(job.stage).toBe("saving");
    expect(pub.playbackUrl).toBe(`/api/files/${job.id}/a-paper-boat-on-a-rainy-street.mp4`);
    expect(JSON.stringify(pub)).not.toContain(fake.origin);

    const generating = derive({
      ...job,
      steps: job.steps.map((s) =>
        s.name === "generate"
          ? { ...s, state: "running" as const, output: null }
          : s.name === "save"
            ? makeStep("save")
            : s,
      ),
    });
    expect(toPublicJob(generating).playbackUrl).toBeNull();
    // With sound asked for, the video to keep is only known once the sound step is finished.
    const withSound = derive({
      ...job,
      steps: job.steps.map((s) =>
        s.name === "sound"
          ? makeStep("sound", { state: "running", engine: "replicate" })
          : s.name === "save"
            ? makeStep("save")
            : s,
      ),
    });
    expect(toPublicJob(withSound).playbackUrl).toBeNull();
  });

  it("streams the provider's file, whole or by range, uncached", async () => {
    const job = await savingJob(await providerOutput());
    const whole = await call(GET, job);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.headers.get("cache-control")).toBe("no-store");
    expect(whole.headers.get("content-length")).toBe(String(sample.length));
    expect((await bytes(whole)).equals(sample)).toBe(true);

    const part = await call(GET, job, { range: "bytes=100-299" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-299/${sample.length}`);
    expect(part.headers.get("content-length")).toBe("200");
    expect((await bytes(part)).equals(sample.subarray(100, 300))).toBe(true);
    const tail = await call(GET, job, { range: `bytes=${sample.length - 10}-` });
    expect((await bytes(tail)).equals(sample.subarray(sample.length - 10))).toBe(true);
    // The player's range went to the provider as it was.
    expect(fake.downloads.map((d) => d.range)).toEqual([null, "bytes=100-299", `bytes=${sample.length - 10}-`]);

    expect((await call(GET, job, { range: `bytes=${sample.length}-` })).status).toBe(416);
    const head = await call(HEAD, job, { range: "bytes=0-9" });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-length")).toBe("10");
    expect(await head.text()).toBe("");
  });

  it("serves our copy under the same URL once it exists, also after the provider deleted its own", async () => {
    const job = await savingJob(await providerOutput());
    const url = toPublicJob(job).playbackUrl;
    await localVideoStore().put(
      videoKey(job.id, videoFileName(job.prompt)),
      new Response(new Uint8Array(sample)).body!,
      { contentType: "video/mp4", maxBytes: 1 << 24 },
    );
    const saved = await store.update(job.id, (j) =>
      derive({
        ...j,
        videoUrl: url,
        steps: j.steps.map((s) => (s.name === "save" ? { ...s, state: "done" as const, progress: 100 } : s)),
      }),
    );
    expect(saved?.job.status).toBe("succeeded");
    expect(toPublicJob(saved!.job).playbackUrl).toBe(url);
    fake.deleteOutputs();
    const res = await call(GET, saved!.job, { range: "bytes=0-99" });
    expect(res.status).toBe(206);
    expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect((await bytes(res)).equals(sample.subarray(0, 100))).toBe(true);
    expect(fake.downloads).toHaveLength(0);
  });

  it("answers 404 when there is nothing to play: the provider deleted it, another name, a job still generating", async () => {
    const gone = await savingJob(await providerOutput());
    fake.deleteOutputs();
    expect((await call(GET, gone)).status).toBe(404);
    const job = await savingJob(await providerOutput());
    expect((await call(GET, job, {}, "other-name.mp4")).status).toBe(404);
    expect((await call(GET, job, {}, "poster.jpg")).status).toBe(404);
    const generating = makeJob({ prompt: "still generating" });
    await store.create(generating);
    expect((await call(GET, generating)).status).toBe(404);
  });

  it("streams a local render, by range too", async () => {
    await mkdir(path.join(dir, "renders"), { recursive: true });
    await writeFile(path.join(dir, "renders", "r1.mp4"), sample);
    const job = await savingJob("local:renders/r1.mp4", { engine: "local" });
    const part = await call(GET, job, { range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${sample.length}`);
    expect((await bytes(part)).equals(sample.subarray(0, 10))).toBe(true);
    // A path out of the renders directory is never served.
    const outside = await savingJob("local:../secret.mp4", { engine: "local" });
    expect((await call(GET, outside)).status).toBe(404);
  });

  it("streams a copy kept on Blob under our URL, so a player started while saving goes on", async () => {
    // Stands in for the Blob URL: any absolute URL of the store, fetched on its own host only.
    const blobUrl = await providerOutput();
    const job = await savingJob(blobUrl);
    const done = await store.update(job.id, (j) =>
      derive({
        ...j,
        videoUrl: blobUrl,
        steps: j.steps.map((s) => (s.name === "save" ? { ...s, state: "done" as const, progress: 100 } : s)),
      }),
    );
    const pub = toPublicJob(done!.job);
    expect(pub.playbackUrl).toBe(`/api/files/${job.id}/${videoFileName(job.prompt)}`);
    const part = await call(GET, done!.job, { range: "bytes=5-14" });
    expect(part.status).toBe(206);
    expect((await bytes(part)).equals(sample.subarray(5, 15))).toBe(true);
  });
});
