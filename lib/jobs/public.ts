import { type Job, type PublicJob } from "@/lib/jobs/schema";
import { estimateProgress, runningStep, STEP_WEIGHTS, weightTotal } from "@/lib/jobs/transition";
import { findModel } from "@/lib/models/registry";

export const ENGINE_LABELS: Record<Job["engine"], string> = {
  local: "Local preview (not AI)",
  replicate: "Replicate (AI)",
};

/**
 * The job as the API and the browser see it: no owner, no provider URLs or references.
 * A time-based estimate is brought up to `now`, never lowered.
 */
export function toPublicJob(job: Job, now = Date.now()): PublicJob {
  const { ownerId: _owner, lastEventAt: _last, engineRef: _ref, steps, ...rest } = job;
  const model = findModel(job.model);
  let progress = job.progress;
  const running = runningStep(job);
  const publicSteps = steps.map(({ output: _o, logsLength: _l, ref: _r, leaseUntil: _lease, ...s }) => {
    if (s.name === "generate" && s.state === "running" && s.progressEstimated && s.runningAt !== null && model) {
      const estimate = Math.max(s.progress ?? 0, estimateProgress(s.runningAt, model.typicalSeconds, now));
      return { ...s, progress: estimate };
    }
    return s;
  });
  if (running?.name === "generate" && running.progressEstimated) {
    const gen = publicSteps.find((s) => s.name === "generate");
    if (gen?.progress != null && progress !== null) {
      // Same weighting as derive(): recompute the overall share the refreshed estimate adds.
      const delta = ((gen.progress - (running.progress ?? 0)) * STEP_WEIGHTS.generate) / weightTotal(job);
      progress = Math.min(99, Math.round(progress + Math.max(0, delta)));
    }
  }
  return {
    ...rest,
    progress,
    steps: publicSteps,
    engineLabel: ENGINE_LABELS[job.engine],
    modelLabel: model?.label ?? job.model,
  };
}
