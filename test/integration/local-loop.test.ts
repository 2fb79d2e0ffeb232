import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../support/app-harness";
import { waitFor } from "../support/wait-for";
import { getEngine, setLocalEngineForTests } from "@/lib/engines";
import { LocalEngine } from "@/lib/engines/local/local-engine";
import { env } from "@/lib/env";
import { newJob } from "@/lib/jobs/domain/new-job";
import { dispatch, enqueueJob } from "@/lib/jobs/pipeline/dispatch";
import { reconcile } from "@/lib/jobs/pipeline/reconcile";
import { createJobSchema } from "@/lib/jobs/domain/request";
import { isTerminal, type Job } from "@/lib/core/job";
import { findStep } from "@/lib/jobs/domain/steps";
import { probeMedia } from "@/lib/media/ffmpeg";
import { MODELS } from "@/lib/models/registry";
import { localWebhookSecret } from "@/lib/webhooks/local-secret";
import { storedVideoPath } from "@/test/support/stored-video";
import { asOwner, TEST_OWNER_ID } from "@/test/support/owner";

let app: AppHarness;

beforeEach(async () => {
  app = await startAppHarness();
});

afterEach(async () => {
  await app.close();
});

async function createAndStart(form: Record<string, string>): Promise<Job> {
  const input = createJobSchema(MODELS).parse({ style: "anime", model: "local/preview", ...form });
  const job = newJob({ input, ownerId: TEST_OWNER_ID, llmEnhancer: false, now: Date.now() });
  await app.store.create(job);
  await enqueueJob(job);
  await dispatch();
  return job;
}

const finished = (id: string) =>
  waitFor(
    () => app.store.get(id),
    (j) => j !== null && isTerminal(j.status),
  ).then(async () => {
    await app.settle();
    return (await app.store.get(id))!;
  });

describe("the local loop: job → local engine → signed webhooks → saved MP4", () => {
  it("renders a prompt into a stored, playable MP4 and reports progress on the way", async () => {
    const job = await createAndStart({ prompt: "a paper boat on a rainy street" });
    const seen = new Set<number>();
    await waitFor(
      async () => {
        const j = await app.store.get(job.id);
        if (j?.progress !== null && j?.progress !== undefined) seen.add(j.progress);
        return j;
      },
      (j) => j !== null && isTerminal(j.status),
    );
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(done.error).toBeNull();
    expect([...seen].some((p) => p > 0 && p < 100)).toBe(true);
    // The stored file is named after the prompt (stores that serve downloads name them from it).
    expect(done.videoUrl).toBe(`/api/files/${job.id}/a-paper-boat-on-a-rainy-street.mp4`);
    const file = path.join(app.dataDir, "videos", job.id, "a-paper-boat-on-a-rainy-street.mp4");
    const media = await probeMedia(file);
    expect(media.video?.codec).toBe("h264");
    expect(media.video?.width).toBe(640);
    expect(media.durationSeconds).toBeGreaterThan(4);
    expect(media.audio).toBeNull();
    expect(existsSync(path.join(app.dataDir, "videos", job.id, "poster.jpg"))).toBe(true);

    const res = await fetch(`${app.origin}/api/status/${job.id}`, await asOwner());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: job.id,
      status: "succeeded",
      progress: 100,
      videoUrl: done.videoUrl,
      error: null,
    });
    expect(body.engineLabel).toBe("Local preview (not AI)");
    expect(JSON.stringify(body)).not.toContain("owner-a");
    expect(JSON.stringify(body)).not.toContain("local:renders");
  });

  it("runs enhance → generate → sound → save and delivers video with an audio stream", async () => {
    const job = await createAndStart({ prompt: "a lighthouse in a storm", enhance: "on", sound: "on" });
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["enhance", "done"],
      ["generate", "done"],
      ["sound", "done"],
      ["save", "done"],
    ]);
    expect(findStep(done, "enhance")?.engine).toBe("rules");
    expect(done.enhancedPrompt).toContain("lighthouse in a storm");
    expect(done.finalPrompt).toBe(done.enhancedPrompt);
    // The renderer got the prompt the job page shows as sent, not the user's own.
    const render = await (await getEngine("local")).get(findStep(done, "generate")!.ref!);
    expect((render as { input?: { prompt?: string } } | null)?.input?.prompt).toBe(done.finalPrompt);
    const media = await probeMedia(storedVideoPath(app.dataDir, done));
    expect(media.video?.codec).toBe("h264");
    expect(media.audio?.codec).toBe("aac");
  });

  it("still delivers the silent video, with a notice, when the soundtrack fails", async () => {
    const engine = new LocalEngine({
      dataDir: env().DATA_DIR,
      secret: await localWebhookSecret(),
      // An audio encoder ffmpeg does not have: the sound step fails, the picture is untouched.
      transformArgs: (args, step) => (step === "sound" ? args.map((a) => (a === "aac" ? "no-such-encoder" : a)) : args),
    });
    setLocalEngineForTests(engine);
    const job = await createAndStart({ prompt: "a lighthouse in a storm", sound: "on" });
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["enhance", "skipped"],
      ["generate", "done"],
      ["sound", "failed"],
      ["save", "done"],
    ]);
    expect(done.notice).toMatch(/^Sound could not be added \(.*\)\. Here is the silent video\.$/);
    expect(done.message).toContain("silent video");
    const media = await probeMedia(storedVideoPath(app.dataDir, done));
    expect(media.video?.codec).toBe("h264");
    expect(media.audio).toBeNull();
  });

  it("resumes a render whose process died: the step is retried and the job still finishes", async () => {
    const job = await createAndStart({ prompt: "a slow train crossing a bridge" });
    const started = findStep((await app.store.get(job.id))!, "generate")!.ref!;
    // Simulate a restart: the render the record points at belongs to a process that no longer exists.
    await app.store.update(job.id, (j) => ({
      ...j,
      lastEventAt: Date.now() - 60_000,
      steps: j.steps.map((s) =>
        s.name === "generate" ? { ...s, state: "running", ref: "lp_vanished_render_000", attempt: 1 } : s,
      ),
    }));
    // The render this process did start dies with the "old process" too. Left running, it would
    // compete for the CPU with the retried one (on a busy machine that doubled the wait), and its
    // deliveries (for a ref and an attempt the job no longer waits for) are ignored anyway.
    await (await getEngine("local")).cancel(started);
    await app.store.forget(`reconcile:${job.id}`);
    await reconcile(job.id);
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "generate")?.attempt).toBe(2);
  });

  it("answers 400 for a malformed id and 404 for an unknown one, as JSON", async () => {
    const bad = await fetch(`${app.origin}/api/status/not-an-id`, await asOwner());
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    const missing = await fetch(`${app.origin}/api/status/${"A".repeat(22)}`, await asOwner());
    expect(missing.status).toBe(404);
  });
});
