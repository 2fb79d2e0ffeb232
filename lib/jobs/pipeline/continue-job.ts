import "server-only";
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { env } from "@/lib/env";
import { localVideoStore } from "@/lib/files";
import { parseVideoKey } from "@/lib/files/types";
import type { FrameUpload } from "@/lib/jobs/pipeline/frame-images";
import { jobFormValues } from "@/lib/jobs/domain/form-values";
import type { Job } from "@/lib/core/job";
import { extractLastFrame } from "@/lib/media/ffmpeg";
import { defaultModel, type ModelDef } from "@/lib/models/registry";

/**
 * "Continue from the last frame": a new job whose first frame is the finished video's last
 * frame, with its prompt and style (and options) carried over.
 */

/** The model a continuation runs on: the job's own when it takes a first frame, else the default among those that do. */
export function continuationModel(job: Job, available: readonly ModelDef[]): ModelDef | undefined {
  const own = available.find((m) => m.id === job.model);
  if (own?.images) return own;
  return defaultModel(available.filter((m) => m.images));
}

/** The form values of the continuation: the job's, on `model`, with a fresh seed and the model's own defaults when it changed. */
export function continuationValues(job: Job, model: ModelDef): Record<string, string> {
  const { seed: _seed, remixOf: _remix, ...values } = jobFormValues(job);
  if (model.id === job.model) return values;
  const { duration: _d, aspectRatio: _a, resolution: _r, negativePrompt: _n, ...rest } = values;
  return { ...rest, model: model.id };
}

/** The last frame of a finished job's video, as a PNG upload. */
export async function lastFrameOf(job: Job): Promise<FrameUpload> {
  if (!job.videoUrl) throw new Error("The job has no video.");
  const tmp = path.join(env().DATA_DIR, "tmp", `last-frame-${randomUUID()}`);
  await mkdir(tmp, { recursive: true });
  try {
    let video: string;
    if (job.videoUrl.startsWith("/api/files/")) {
      const { jobId, file } = parseVideoKey(decodeURIComponent(job.videoUrl.slice("/api/files/".length)));
      video = localVideoStore().pathOf(`${jobId}/${file}`);
    } else {
      // Our own copy in Blob storage.
      video = path.join(tmp, "video.mp4");
      const res = await fetch(job.videoUrl, { cache: "no-store" });
      if (!res.ok || !res.body) throw new Error(`The video could not be read (HTTP ${res.status}).`);
      await pipeline(Readable.fromWeb(res.body as NodeWebReadableStream<Uint8Array>), createWriteStream(video));
    }
    const png = path.join(tmp, "last-frame.png");
    await extractLastFrame(video, png);
    return { bytes: await readFile(png), type: "image/png", name: "last-frame.png" };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
