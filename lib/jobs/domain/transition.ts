import { parseProgressFromLogs } from "replicate";
import { cleanEnhancerOutput, ruleEnhance } from "@/lib/enhance/rules";
import type { PredictionStatus } from "@/lib/engines/types";
import { isTerminal, type Job, type Stage, type Step, type StepName, type StepRunner } from "@/lib/core/job";

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
  | { type: "step.complete"; step: StepName; attempt: number; output: string | null; note?: string | null; engine?: StepRunner }
  | { type: "step.fail"; step: StepName; attempt: number; error: string }
  | { type: "step.reset"; step: StepName; attempt: number; reason: string }
  | { type: "step.lease"; step: StepName; attempt: number; until: number }
  | { type: "saved"; attempt: number; videoUrl: string; posterUrl: string | null; notice?: string | null }
  | { type: "cancel"; reason?: string }
  /** The job got a slot (lib/jobs/pipeline/dispatch.ts): its steps may start. */
  | { type: "admit" }
  /** The engine refused to start the step for now (a 429): it goes back in line, not failed. */
  | { type: "requeue"; step: StepName; attempt: number; reason: string };

/** Share of the overall progress bar each step takes (skipped steps take none). */
export const STEP_WEIGHTS: Record<StepName, number> = { enhance: 10, generate: 70, sound: 15, save: 5 };

export function weightTotal(job: Job): number {
  return job.steps.filter((s) => s.state !== "skipped").reduce((n, s) => n + STEP_WEIGHTS[s.name], 0) || 1;
}
const FINISHED: Step["state"][] = ["done", "skipped", "failed", "canceled"];
/** Estimates never claim to be done: the last stretch is only known when the engine says so. */
const ESTIMATE_CAP = 95;

export function findStep(job: Job, name: StepName): Step | undefined {
  return job.steps.find((s) => s.name === name);
}

/** Whether the job holds a slot; one still waiting in line starts nothing. */
export function isAdmitted(job: Pick<Job, "admittedAt">): boolean {
  return job.admittedAt !== null;
}

/** The step to start next: the first waiting one whose predecessors are finished, if none is running. */
export function nextStep(job: Job): StepName | null {
  if (isTerminal(job.status) || !isAdmitted(job)) return null;
  for (const step of job.steps) {
    if (step.state === "running") return null;
    if (step.state === "waiting") return step.name;
  }
  return null;
}

export function runningStep(job: Job): Step | undefined {
  return job.steps.find((s) => s.state === "running");
}

/**
 * Whether prediction `ref`, started for `attempt` of a step, is no longer wanted: the job ended
 * or was deleted, or the step moved on to another attempt or another prediction. Such a run
 * would be paid for and never shown, so callers cancel it upstream.
 */
export function isOrphan(job: Job | null, name: StepName, ref: string, attempt?: number): boolean {
  const step = job ? findStep(job, name) : undefined;
  if (!job || !step) return true;
  if (step.ref === ref) return step.state === "canceled";
  if (attempt !== undefined && attempt !== step.attempt) return true;
  // Running without a recorded prediction: this one may still become the step's.
  return !(step.state === "running" && step.ref === null && !isTerminal(job.status));
}

/** The predictions a cancel stopped: those of the steps it marked canceled. */
export function canceledRefs(job: Job): { engine: "local" | "replicate"; ref: string }[] {
  return job.steps.flatMap((s) =>
    s.state === "canceled" && s.ref && (s.engine === "local" || s.engine === "replicate") ? [{ engine: s.engine, ref: s.ref }] : [],
  );
}

/** Progress of a step from tqdm lines in its logs (0–100), or null when the logs show none. */
export function progressFromLogs(logs: string): number | null {
  // tqdm redraws a line with \r, and prefixes its bar with a description ("Generating:  45%|…"),
  // which the client's parser (anchored at the line start) would miss.
  const lines = logs
    .replace(/\r/g, "\n")
    .split("\n")
    .map((line) => line.replace(/^.*?(?=\d+%\s*\|)/, ""));
  const parsed = parseProgressFromLogs(lines.join("\n"));
  if (!parsed || !Number.isFinite(parsed.percentage)) return null;
  return Math.max(0, Math.min(100, Math.round(parsed.percentage * 100)));
}

/** A time-based estimate from when the step started running and how long the model usually takes. */
export function estimateProgress(runningAt: number, typicalSeconds: number, now: number): number {
  const fraction = (now - runningAt) / 1000 / Math.max(1, typicalSeconds);
  return Math.max(0, Math.min(ESTIMATE_CAP, Math.round(fraction * 100)));
}

function withStep(job: Job, name: StepName, patch: (s: Step) => Step): Job {
  return { ...job, steps: job.steps.map((s) => (s.name === name ? patch(s) : s)) };
}

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
        ...withStep(job, name, (s) => ({ ...s, state: "waiting", ref: null, note: event.reason, progress: null, startedAt: null })),
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
  const next = step.ref === null ? { ...withStep(job, step.name, (s) => ({ ...s, ref: event.ref })), engineRef: event.ref } : job;
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
      return failStep(next, current, event.error ? `The model failed: ${event.error}` : "The model failed without saying why.", now);
  }
}

function completeStep(job: Job, step: Step, output: string | null, now: number, note: string | null, engine?: StepRunner): Job {
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
    return completeStep(job, step, ruleEnhance(job.prompt, job.style), now, `The LLM enhancer failed (${error}); the rule-based enhancer was used instead.`, "rules");
  }
  const failed = withStep(job, step.name, (s) => ({ ...s, state: "failed", error, completedAt: now }));
  if (step.name === "sound") {
    // A failed sound step still delivers the silent video.
    return { ...failed, notice: `Sound could not be added (${error}). Here is the silent video.` };
  }
  const reason =
    step.name === "save" ? `The video was made but could not be saved: ${error}` : error;
  return {
    ...failed,
    status: "failed",
    error: reason,
    completedAt: now,
    steps: failed.steps.map((s) => (s.state === "waiting" ? { ...s, state: "skipped" } : s)),
  };
}

/** Status, stage, message and overall progress, derived from the steps. */
export function derive(job: Job): Job {
  if (job.status === "canceled") {
    return { ...job, stage: "canceled", message: job.notice ?? "Canceled." };
  }
  if (job.status === "failed") {
    return { ...job, stage: "failed", message: job.error ?? "The job failed." };
  }
  const counted = job.steps.filter((s) => s.state !== "skipped");
  const total = weightTotal(job);
  let done = 0;
  let unknown = false;
  for (const s of counted) {
    if (FINISHED.includes(s.state)) done += STEP_WEIGHTS[s.name];
    else if (s.state === "running") {
      if (s.progress === null) unknown = true;
      else done += (STEP_WEIGHTS[s.name] * s.progress) / 100;
    }
  }
  const computed = unknown ? null : Math.round((done / total) * 100);
  const allFinished = job.steps.every((s) => FINISHED.includes(s.state));
  if (allFinished) {
    return {
      ...job,
      status: "succeeded",
      stage: "done",
      message: job.notice ? `Done. ${job.notice}` : "Done.",
      progress: 100,
      progressEstimated: false,
      completedAt: job.completedAt ?? job.steps.find((s) => s.name === "save")?.completedAt ?? null,
    };
  }
  const running = runningStep(job);
  const progress = computed === null ? job.progress : Math.max(job.progress ?? 0, computed);
  const { status, stage, message } = describe(job, running);
  return { ...job, status, stage, message, progress, progressEstimated: Boolean(running?.progressEstimated) };
}

function describe(job: Job, running: Step | undefined): { status: Job["status"]; stage: Stage; message: string } {
  const started = job.steps.some((s) => s.state !== "waiting" && s.state !== "skipped");
  if (!isAdmitted(job)) return { status: "queued", stage: "queued", message: "Waiting in line…" };
  if (!running) {
    return started
      ? { status: "processing", stage: "queued", message: "Preparing the next step…" }
      : { status: "queued", stage: "queued", message: "Queued." };
  }
  const pct = running.progress === null ? "" : ` ${running.progress}%${running.progressEstimated ? " (estimated)" : ""}`;
  const local = running.engine === "local";
  switch (running.name) {
    case "enhance":
      return {
        status: "processing",
        stage: "enhancing",
        message: running.engine === "rules" ? "Enhancing the prompt (rule-based)…" : "Enhancing the prompt with an LLM…",
      };
    case "generate":
      if (running.runningAt === null) {
        return local
          ? { status: "starting", stage: "waiting_gpu", message: "Starting the local preview renderer…" }
          : { status: "starting", stage: "waiting_gpu", message: "Waiting for a GPU…" };
      }
      return {
        status: "processing",
        stage: "generating",
        message: local ? `Rendering the local preview…${pct}` : `Generating the video…${pct}`,
      };
    case "sound":
      return { status: "processing", stage: "adding_sound", message: local ? `Adding a soundtrack…${pct}` : `Adding sound…${pct}` };
    case "save":
      return { status: "processing", stage: "saving", message: "Saving the video…" };
  }
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
