import { asciiSlug } from "@/lib/files/download-name";
import type { Job } from "@/lib/core/job";
import { findStep } from "@/lib/jobs/domain/steps";

/**
 * Which engine output is the job's video, and the one URL of ours the page plays it from. Shared
 * by the save step, the file route (which streams the output until our copy exists) and the
 * public record; no I/O here.
 */

/** The output to keep: the video with sound when the sound step made one, else the silent one. */
export function videoSource(job: Job): string | null {
  return soundOutput(job) ?? silentOutput(job);
}

export function soundOutput(job: Job): string | null {
  const sound = findStep(job, "sound");
  return sound?.state === "done" && sound.output ? sound.output : null;
}

export function silentOutput(job: Job): string | null {
  return findStep(job, "generate")?.output ?? null;
}

/** The stored video's file name: named after the prompt (a download from Blob is named from its path). */
export function videoFileName(prompt: string): string {
  return `${asciiSlug(prompt, 48)}.mp4`;
}

/**
 * The engine output the job's video will be copied from, once no step can change which one that
 * is (the model and the sound step are finished) and the job has not ended without it.
 */
export function finalSource(job: Job): string | null {
  if (job.status === "failed" || job.status === "canceled") return null;
  const sound = findStep(job, "sound");
  if (sound && (sound.state === "waiting" || sound.state === "running")) return null;
  if (findStep(job, "generate")?.state !== "done") return null;
  return videoSource(job);
}

/**
 * Where the page plays the video: one URL of ours from the moment the model's video exists, the
 * same before and after our copy is made (the file route streams the engine's output until then).
 * On the local store it is the saved file's own URL; with Blob the route serves the Blob copy
 * under it, so a player opened while saving never changes its source. null while not playable.
 */
export function playbackUrl(job: Job): string | null {
  const own = `/api/files/${job.id}/${videoFileName(job.prompt)}`;
  if (job.status === "succeeded") return job.videoUrl ? (job.videoUrl.startsWith("/") ? job.videoUrl : own) : null;
  return finalSource(job) ? own : null;
}
