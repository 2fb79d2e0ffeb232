import { typicalSeconds } from "@/lib/jobs/domain/prediction-event";
import {
  PRIVATE_JOB_FIELDS,
  PRIVATE_STEP_FIELDS,
  withoutFields,
  type FrameImage,
  type Job,
  type PublicJob,
  type Share,
  type SharedJob,
  type QueuePlace,
  isTerminal,
  NOT_WAITING,
} from "@/lib/core/job";
import type { Frame } from "@/lib/core/frame-image";
import { derive } from "@/lib/jobs/domain/derive-status";
import { estimateProgress } from "@/lib/jobs/domain/progress";
import { isAdmitted, runningStep } from "@/lib/jobs/domain/steps";
import { findModel } from "@/lib/models/registry";
import { playbackUrl } from "@/lib/jobs/domain/video-source";

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

/** The path of a share's public page. */
export function sharePath(token: string): string {
  return `/v/${token}`;
}

/**
 * The job as its owner's browser sees it: no owner, no provider URLs or references, no storage
 * URLs. `place`: where it stands in line (lib/jobs/pipeline/queue-place.ts), shown only while it waits.
 */
export function toPublicJob(job: Job, now = Date.now(), place: QueuePlace = NOT_WAITING): PublicJob {
  const { steps, images, share, ...rest } = withoutFields(withCurrentEstimate(job, now), PRIVATE_JOB_FIELDS);
  const waiting = !isTerminal(job.status) && !isAdmitted(job);
  return {
    ...rest,
    images: { first: publicImage(job.id, "first", images?.first), last: publicImage(job.id, "last", images?.last) },
    ...(waiting ? place : NOT_WAITING),
    steps: steps.map((s) => withoutFields(s, PRIVATE_STEP_FIELDS)),
    engineLabel: ENGINE_LABELS[job.engine],
    modelLabel: modelLabel(job),
    shared: share !== null,
    sharePath: share ? sharePath(share.token) : null,
    playbackUrl: playbackUrl(job),
  };
}

function modelLabel(job: Job): string {
  return findModel(job.model)?.label ?? job.model;
}

/** A shared video as everyone else sees it: the fields of sharedJobSchema, files through the share. */
export function toSharedJob(job: Job, share: Share): SharedJob {
  const { duration, aspectRatio, resolution, seed } = job.params;
  return {
    token: share.token,
    prompt: job.prompt,
    style: job.style,
    engine: job.engine,
    model: job.model,
    modelLabel: modelLabel(job),
    engineLabel: ENGINE_LABELS[job.engine],
    params: { duration, aspectRatio, resolution, seed },
    options: { ...job.options },
    videoUrl: share.videoUrl,
    posterUrl: share.posterUrl,
    completedAt: job.completedAt,
  };
}
