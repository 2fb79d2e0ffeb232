import { cleanEnhancerOutput, ruleEnhance } from "@/lib/enhance/rules";
import type { PredictionStatus } from "@/lib/engines/types";
import { isTerminal, type Job, type Step, type StepName, type StepRunner } from "@/lib/core/job";
import { derive } from "@/lib/jobs/domain/derive-status";
import { estimateProgress, progressFromLogs } from "@/lib/jobs/domain/progress";
import { findStep, isAdmitted, nextStep, withStep } from "@/lib/jobs/domain/steps";

/**
 * The one place where a job's state changes. Webhooks, reconciliation, the pipeline and the
 * user's actions all describe what happened as an event; `transition` decides what that may
 * change. Rules: terminal states are final, progress never goes backwards, and stale or
 * duplicate events change nothing (it returns null).
 */

export type PredictionEvent = {
  type: "prediction";
  step: StepName;
  ref: string;
  /** Attempt named in the webhook URL, so a delivery can be matched before its ref is recorded. */
  attempt?: number;
  status: PredictionStatus;
  logs: string | null;
  /** The step's output already read from the provider's shape (URL or text), if any. */
  output: string | null;
  error: string | null;
  startedAt: number | null;
  /** Typical seconds of this step, for a time-based estimate when the logs show no progress. */
  typicalSeconds: number;
};

export type JobEvent =
  | PredictionEvent
  | { type: "step.claim"; step: StepName; engine: StepRunner }
  | { type: "step.ref"; step: StepName; attempt: number; ref: string }
  | {
      type: "step.complete";
      step: StepName;
      attempt: number;
      output: string | null;
      note?: string | null;
      engine?: StepRunner;
    }
  | { type: "step.fail"; step: StepName; attempt: number; error: string }
  | { type: "step.reset"; step: StepName; attempt: number; reason: string }
  | { type: "step.lease"; step: StepName; attempt: number; until: number }
  | { type: "saved"; attempt: number; videoUrl: string; posterUrl: string | null; notice?: string | null }
  | { type: "cancel"; reason?: string }
  /** The job got a slot (lib/jobs/pipeline/dispatch.ts): its steps may start. */
  | { type: "admit" }
  /** The engine refused to start the step for now (a 429): it goes back in line, not failed. */
  | { type: "requeue"; step: StepName; attempt: number; reason: string };

function applyToStep(job: Job, event: JobEvent, now: number): Job | null {
  if (event.type === "cancel") {
    return {
      ...job,
      status: "canceled",
      error: null,
      notice: event.reason ?? null,
      completedAt: now,
      steps: job.steps.map((s) =>
        s.state === "running" || s.state === "waiting" ? { ...s, state: "canceled", completedAt: now } : s,
      ),
    };
  }
  if (event.type === "admit") return isAdmitted(job) ? null : { ...job, admittedAt: now };
  const name: StepName = event.type === "saved" ? "save" : event.step;
  const step = findStep(job, name);
  if (!step) return null;

  if (event.type === "step.claim") {
    if (step.state !== "waiting" || nextStep(job) !== name) return null;
    const inProcess = event.engine === "rules" || event.engine === "app";
    return {
      ...withStep(job, name, (s) => ({
        ...s,
        state: "running",
        engine: event.engine,
        attempt: s.attempt + 1,
        ref: null,
        startedAt: now,
        runningAt: inProcess ? now : null,
        completedAt: null,
        progress: 0,
        progressEstimated: false,
        logsLength: 0,
        error: null,
        leaseUntil: null,
      })),
      startedAt: job.startedAt ?? now,
      engineRef: null,
    };
  }

  if (step.state !== "running") return null;
  if (event.attempt !== undefined && event.attempt !== step.attempt) return null;

  switch (event.type) {
    case "step.ref":
      if (step.ref !== null) return null;
      return { ...withStep(job, name, (s) => ({ ...s, ref: event.ref })), engineRef: event.ref };
    case "step.complete":
      return completeStep(job, step, event.output, now, event.note ?? null, event.engine);
    case "saved":
      return {
        ...withStep(job, "save", (s) => ({ ...s, state: "done", progress: 100, completedAt: now })),
        videoUrl: event.videoUrl,
        posterUrl: event.posterUrl,
        notice: event.notice ?? job.notice,
      };
    case "step.fail":
      return failStep(job, step, event.error, now);
    case "step.reset":
      return withStep(job, name, (s) => ({ ...s, state: "waiting", ref: null, note: event.reason, progress: null }));
    case "requeue":
      return {
        ...withStep(job, name, (s) => ({
          ...s,
          state: "waiting",
          ref: null,
          note: event.reason,
          progress: null,
          startedAt: null,
        })),
        admittedAt: null,
        engineRef: null,
      };
    case "step.lease":
      if (event.until <= (step.leaseUntil ?? 0)) return null;
      return withStep(job, name, (s) => ({ ...s, leaseUntil: event.until }));
    case "prediction":
      return applyPrediction(job, step, event, now);
  }
}

function applyPrediction(job: Job, step: Step, event: PredictionEvent, now: number): Job | null {
  if (step.ref !== null && step.ref !== event.ref) return null;
  const next =
    step.ref === null ? { ...withStep(job, step.name, (s) => ({ ...s, ref: event.ref })), engineRef: event.ref } : job;
  const current = findStep(next, step.name)!;

  switch (event.status) {
    case "starting":
      return next;
    case "processing": {
      const firstNews = current.runningAt === null;
      const logs = event.logs ?? "";
      // A delivery with fewer log characters than already applied is older: nothing to learn from it.
      if (!firstNews && logs.length <= current.logsLength) return next;
      const runningAt = current.runningAt ?? event.startedAt ?? now;
      const fromLogs = logs ? progressFromLogs(logs) : null;
      const estimated = fromLogs === null;
      const value = fromLogs ?? estimateProgress(runningAt, event.typicalSeconds, now);
      // A viewer may have seen the estimate brought up to now (toPublicJob): a first tqdm line
      // below it holds the bar there until the real progress passes it.
      const shown =
        current.progressEstimated && current.runningAt !== null
          ? Math.max(current.progress ?? 0, estimateProgress(current.runningAt, event.typicalSeconds, now))
          : (current.progress ?? 0);
      const progress = Math.max(shown, value);
      return withStep(next, step.name, (s) => ({
        ...s,
        runningAt,
        progress,
        progressEstimated: estimated,
        logsLength: Math.max(s.logsLength, logs.length),
      }));
    }
    case "succeeded":
      if (event.output === null) return failStep(next, current, "The model finished without producing a result.", now);
      return completeStep(next, current, event.output, now, null);
    case "canceled":
      if (step.name === "generate") {
        return applyToStep(next, { type: "cancel", reason: "The run was canceled at the provider." }, now);
      }
      return failStep(next, current, "The run was canceled at the provider.", now);
    case "aborted":
      return failStep(next, current, "The provider aborted the run before it started (its deadline passed).", now);
    case "failed":
      return failStep(
        next,
        current,
        event.error ? `The model failed: ${event.error}` : "The model failed without saying why.",
        now,
      );
  }
}

function completeStep(
  job: Job,
  step: Step,
  output: string | null,
  now: number,
  note: string | null,
  engine?: StepRunner,
): Job {
  let next = withStep(job, step.name, (s) => ({
    ...s,
    state: "done",
    engine: engine ?? s.engine,
    output,
    note: note ?? s.note,
    progress: 100,
    progressEstimated: false,
    runningAt: s.runningAt ?? now,
    completedAt: now,
  }));
  if (step.name === "enhance" && output) {
    const enhanced = cleanEnhancerOutput(output);
    next = { ...next, enhancedPrompt: enhanced, finalPrompt: enhanced };
  }
  return next;
}

function failStep(job: Job, step: Step, error: string, now: number): Job {
  if (step.name === "enhance") {
    // The LLM is a nicety: the rule-based enhancer takes over and the job says so.
    return completeStep(
      job,
      step,
      ruleEnhance(job.prompt, job.style),
      now,
      `The LLM enhancer failed (${error}); the rule-based enhancer was used instead.`,
      "rules",
    );
  }
  const failed = withStep(job, step.name, (s) => ({ ...s, state: "failed", error, completedAt: now }));
  if (step.name === "sound") {
    // A failed sound step still delivers the silent video.
    return { ...failed, notice: `Sound could not be added (${error}). Here is the silent video.` };
  }
  const reason = step.name === "save" ? `The video was made but could not be saved: ${error}` : error;
  return {
    ...failed,
    status: "failed",
    error: reason,
    completedAt: now,
    steps: failed.steps.map((s) => (s.state === "waiting" ? { ...s, state: "skipped" } : s)),
  };
}

/** Fields whose change counts as a change (not bookkeeping). */
function signature(job: Job): string {
  const { seq: _seq, updatedAt: _u, lastEventAt: _l, ...rest } = job;
  return JSON.stringify(rest);
}

/**
 * Applies one event. Returns the next job, or null when the event changes nothing (stale,
 * duplicate, after a terminal state, or for a step that is not running).
 */
export function transition(job: Job, event: JobEvent, now: number): Job | null {
  if (isTerminal(job.status)) return null;
  const applied = applyToStep(job, event, now);
  if (!applied) return null;
  const next = derive(applied);
  if (signature(next) === signature(job)) return null;
  return { ...next, lastEventAt: now };
}
