import { typicalSeconds } from "@/lib/jobs/prediction-event";
import { PRIVATE_JOB_FIELDS, PRIVATE_STEP_FIELDS, withoutFields, type FrameImage, type Job, type PublicJob } from "@/lib/jobs/schema";
import type { Frame } from "@/lib/media/frame-image";
import { derive, estimateProgress, runningStep } from "@/lib/jobs/transition";
import { findModel } from "@/lib/models/registry";
import { playbackUrl } from "@/lib/jobs/video-source";

export const ENGINE_LABELS: Record<Job["engine"], string> = {
  local: "Local preview (not AI)",
  replicate: "Replicate (AI)",
};

/**
 * A running step's time-based estimate brought up to `now`, through derive() like a stored
 * change. The transition raises the step to at least this when the next news arrives (even a
 * lower first tqdm value), so what a viewer was shown never goes backwards.
 */
function withCurrentEstimate(job: Job, now: number): Job {
  const running = runningStep(job);
  if (!running?.progressEstimated || running.runningAt === null) return job;
  const estimate = estimateProgress(running.runningAt, typicalSeconds(job, running.name), now);
  if (estimate <= (running.progress ?? 0)) return job;
  return derive({ ...job, steps: job.steps.map((s) => (s === running ? { ...s, progress: estimate } : s)) });
}

/** The owner-only route of a job's frame image (app/api/jobs/[id]/frames/[frame]). */
export function frameImagePath(jobId: string, frame: Frame): string {
  return `/api/jobs/${jobId}/frames/${frame}`;
}

function publicImage(jobId: string, frame: Frame, image: FrameImage | null | undefined) {
  return image ? { url: frameImagePath(jobId, frame), contentType: image.contentType } : null;
}

/** The job as the API and the browser see it: no owner, no provider URLs or references, no storage URLs. */
export function toPublicJob(job: Job, now = Date.now()): PublicJob {
  const { steps, images, ...rest } = withoutFields(withCurrentEstimate(job, now), PRIVATE_JOB_FIELDS);
  const model = findModel(job.model);
  return {
    ...rest,
    images: { first: publicImage(job.id, "first", images?.first), last: publicImage(job.id, "last", images?.last) },
    steps: steps.map((s) => withoutFields(s, PRIVATE_STEP_FIELDS)),
    engineLabel: ENGINE_LABELS[job.engine],
    modelLabel: model?.label ?? job.model,
    playbackUrl: playbackUrl(job),
  };
}
