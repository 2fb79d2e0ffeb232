import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../support/app-harness";
import { makeJob, makeStep } from "../support/job-factory";
import { advance } from "@/lib/jobs/pipeline/advance";
import type { Job } from "@/lib/core/job";
import { findStep } from "@/lib/jobs/domain/steps";
import { transition } from "@/lib/jobs/domain/transition";
import { probeMedia, runFfmpeg } from "@/lib/media/ffmpeg";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import type { JobStore } from "@/lib/store/types";
import { storedVideoPath } from "@/test/support/stored-video";

/**
 * The save step on its own: a job whose engine steps are done is advanced, and the save step
 * copies (or fails to copy) its outputs into the app's storage.
 */

let app: AppHarness;
/** Runs once, just before the save step records its result (what a person deleting or canceling would do meanwhile). */
let beforeSaved: ((store: JobStore, id: string) => Promise<void>) | null = null;

/** The embedded store, with a hook just before an update records a saved video. */
function hookedStore(dataDir: string): JobStore {
  const inner = new EmbeddedStore({ dir: dataDir });
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "update") {
        return async (id: string, fn: (job: Job) => Job | null) => {
          const hook = beforeSaved;
          if (hook) {
            const current = await target.get(id);
            if (current && fn(current)?.videoUrl) {
              beforeSaved = null;
              await hook(target, id);
            }
          }
          return target.update(id, fn);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeEach(async () => {
  beforeSaved = null;
  app = await startAppHarness({ store: hookedStore });
});

afterEach(async () => {
  await app.close();
});

/** A one-second silent MP4 in the local engine's renders folder, as `local:` output. */
async function render(name: string): Promise<string> {
  const dir = path.join(app.dataDir, "renders");
  await mkdir(dir, { recursive: true });
  await runFfmpeg([
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=160x90:rate=10:duration=1",
    "-pix_fmt",
    "yuv420p",
    "-c:v",
    "libx264",
    path.join(dir, `${name}.mp4`),
  ]);
  return `local:renders/${name}.mp4`;
}

const missing = (name: string) => `local:renders/${name}.mp4`;

/** A job whose generate (and sound) steps are done, waiting for the save step. */
async function readyToSave(outputs: { video: string; sound?: string }): Promise<Job> {
  const done = { state: "done" as const, attempt: 1, progress: 100, completedAt: Date.now() };
  const job = makeJob({
    status: "processing",
    options: { enhance: false, sound: outputs.sound !== undefined },
    finalPrompt: "A red fox running through fresh snow at dawn",
    steps: [
      makeStep("enhance", { state: "skipped" }),
      makeStep("generate", { ...done, output: outputs.video }),
      outputs.sound === undefined
        ? makeStep("sound", { state: "skipped" })
        : makeStep("sound", { ...done, output: outputs.sound }),
      makeStep("save"),
    ],
  });
  await app.store.create(job);
  return job;
}

const videoDir = (id: string) => path.join(app.dataDir, "videos", id);

describe("the save step", () => {
  it("fails the job, saying the video was made but could not be saved, when the video is gone for good", async () => {
    const job = await readyToSave({ video: missing("lp_vanishedvanishedvani") });
    await advance(job.id);
    const done = (await app.store.get(job.id))!;
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/^The video was made but could not be saved: The rendered file is missing/);
    expect(findStep(done, "save")!.state).toBe("failed");
    expect(done.videoUrl).toBeNull();
  });

  it("delivers the silent video with a notice when the video with sound cannot be saved", async () => {
    const silent = await render("lp_silentsilentsilentsi");
    const job = await readyToSave({ video: silent, sound: missing("lp_soundgonesoundgoneso") });
    await advance(job.id);
    const done = (await app.store.get(job.id))!;
    expect(done.status).toBe("succeeded");
    expect(done.videoUrl).toMatch(new RegExp(`^/api/files/${job.id}/[a-z0-9-]+\\.mp4$`));
    expect(done.notice).toMatch(/Sound could not be added.*silent video/);
    expect(done.message).toContain("silent video");
    const media = await probeMedia(storedVideoPath(app.dataDir, done));
    expect(media.video).not.toBeNull();
    expect(media.audio).toBeNull();
  });

  it.each([
    ["deleted", async (store: JobStore, id: string) => void (await store.delete(id))],
    [
      "canceled",
      async (store: JobStore, id: string) =>
        void (await store.update(id, (j) => transition(j, { type: "cancel" }, Date.now()))),
    ],
  ])("leaves no files behind when the job is %s while its video is being stored", async (_what, happen) => {
    const silent = await render("lp_racingracingracingra");
    const job = await readyToSave({ video: silent });
    beforeSaved = happen;
    await advance(job.id);
    expect(beforeSaved).toBeNull();
    const after = await app.store.get(job.id);
    expect(after?.videoUrl ?? null).toBeNull();
    expect(existsSync(videoDir(job.id))).toBe(false);
  });

  it("keeps the files of a job that was saved", async () => {
    const job = await readyToSave({ video: await render("lp_keptkeptkeptkeptkept") });
    await advance(job.id);
    const kept = (await app.store.get(job.id))!;
    expect(kept.status).toBe("succeeded");
    expect(existsSync(storedVideoPath(app.dataDir, kept))).toBe(true);
  });
});
