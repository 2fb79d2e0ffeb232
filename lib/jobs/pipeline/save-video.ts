import "server-only";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { resolveLocalOutput } from "@/lib/engines/local/render-files";
import { isLocalOutput } from "@/lib/engines/local/local-output";
import { env } from "@/lib/env";
import { fetchProviderVideo } from "@/lib/files/fetch-video";
import { getVideoStore } from "@/lib/files";
import type { Job } from "@/lib/core/job";
import { silentOutput, soundOutput, videoFileName } from "@/lib/jobs/domain/video-source";
import { extractPoster } from "@/lib/media/ffmpeg";
import { getStore } from "@/lib/store";

/**
 * The save step: copies the finished video from the engine (a provider URL that expires in an
 * hour, or a local render) into the app's own storage, with a poster frame beside it, before
 * the job may be marked succeeded. `videoUrl` only ever points at this copy.
 */
export class SaveError extends Error {
  constructor(
    message: string,
    /** Retrying cannot help (the provider deleted the output, or it is not a video). */
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SaveError";
  }
}

export type SavedVideo = {
  videoUrl: string;
  posterUrl: string | null;
  bytes: number;
  /** Set when the video with sound could not be kept and the silent one was saved instead. */
  notice: string | null;
};

async function download(source: string, target: string, maxBytes: number): Promise<void> {
  const dataDir = env().DATA_DIR;
  if (isLocalOutput(source)) {
    const file = resolveLocalOutput(dataDir, source);
    if (!file) throw new SaveError("The rendered file is missing.", true);
    await copyFile(file, target).catch((error: unknown) => {
      throw new SaveError("The rendered file is missing.", true, { cause: error });
    });
    return;
  }
  const fetched = await fetchProviderVideo(source, { maxBytes });
  await pipeline(Readable.fromWeb(fetched.stream as never), createWriteStream(target));
}

/**
 * Saves the job's video. When the video with sound cannot be copied (for good, or on the last
 * attempt), the silent video is saved instead with a notice, as when the sound step fails.
 */
export async function saveJobVideo(
  job: Job,
  attempt: number,
  options: { lastAttempt?: boolean } = {},
): Promise<SavedVideo> {
  const withSound = soundOutput(job);
  const silent = silentOutput(job);
  if (withSound) {
    try {
      return { ...(await storeVideo(job, attempt, withSound)), notice: null };
    } catch (error) {
      if (!(error instanceof SaveError) || !(error.permanent || options.lastAttempt) || !silent) throw error;
      const saved = await storeVideo(job, attempt, silent);
      const reason = error.message.replace(/\.$/, "");
      return {
        ...saved,
        notice: `Sound could not be added (the video with sound could not be saved: ${reason}). Here is the silent video.`,
      };
    }
  }
  if (!silent) throw new SaveError("The engine reported success but gave no video.", true);
  return { ...(await storeVideo(job, attempt, silent)), notice: null };
}

/**
 * After a save: when the job was deleted, canceled or failed while its video was being stored,
 * nothing will ever point at the stored files, so they are removed. Returns whether it did.
 */
export async function discardOrphanedVideo(jobId: string): Promise<boolean> {
  const job = await getStore().get(jobId);
  if (job && job.status !== "canceled" && job.status !== "failed") return false;
  await getVideoStore().delete(jobId);
  return true;
}

async function storeVideo(job: Job, attempt: number, source: string): Promise<Omit<SavedVideo, "notice">> {
  const e = env();
  const tmpDir = path.join(e.DATA_DIR, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const tmpVideo = path.join(tmpDir, `${job.id}-${attempt}.mp4`);
  const tmpPoster = path.join(tmpDir, `${job.id}-${attempt}.jpg`);
  const maxBytes = e.MAX_VIDEO_MB * 1024 * 1024;
  try {
    try {
      await download(source, tmpVideo, maxBytes);
    } catch (error) {
      if (error instanceof SaveError) throw error;
      const permanent = Boolean((error as { permanent?: boolean }).permanent);
      const reason = error instanceof Error ? error.message : String(error);
      throw new SaveError(permanent ? reason : `Copying the video failed (${reason}).`, permanent, { cause: error });
    }
    const { size } = await stat(tmpVideo);
    const store = getVideoStore();
    // Named after the prompt: a store that serves downloads itself (Vercel Blob's ?download=1)
    // names the file from its path.
    const video = await store.put(`${job.id}/${videoFileName(job.prompt)}`, createReadStream(tmpVideo), {
      contentType: "video/mp4",
      maxBytes,
    });
    let posterUrl: string | null = null;
    try {
      await extractPoster(tmpVideo, tmpPoster);
      posterUrl = (
        await store.put(`${job.id}/poster.jpg`, createReadStream(tmpPoster), { contentType: "image/jpeg", maxBytes })
      ).url;
    } catch {
      // A missing poster costs a thumbnail, not the video.
    }
    return { videoUrl: video.url, posterUrl, bytes: size };
  } finally {
    await rm(tmpVideo, { force: true });
    await rm(tmpPoster, { force: true });
  }
}
