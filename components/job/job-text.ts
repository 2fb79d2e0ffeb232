import type { PublicJob, Stage, StepName, StepRunner, StepState } from "@/lib/core/job";
import { formatWaitEstimate } from "@/components/job/wait-text";

/** Short names of the stages, for the tab title and the live announcements. */
export const STAGE_LABELS: Record<Stage, string> = {
  queued: "Waiting in line",
  enhancing: "Enhancing prompt…",
  waiting_gpu: "Waiting for a GPU…",
  generating: "Generating…",
  adding_sound: "Adding sound…",
  saving: "Saving…",
  done: "Video ready",
  failed: "Failed",
  canceled: "Canceled",
};

export const STEP_LABELS: Record<StepName, string> = {
  enhance: "Enhance prompt",
  generate: "Generate video",
  sound: "Add sound",
  save: "Save video",
};

export const STEP_STATE_LABELS: Record<StepState, string> = {
  waiting: "Waiting",
  running: "Running",
  done: "Done",
  skipped: "Skipped",
  failed: "Failed",
  canceled: "Canceled",
};

const STEP_RUNNER_LABELS: Record<StepRunner, string | null> = {
  none: null,
  rules: "rule-based, on this server",
  local: "this server (not AI)",
  replicate: "Replicate",
  app: "this app",
  you: "you",
};

/** Who runs a step, in words; null when nobody does (a skipped step). */
export function stepEngineLabel(engine: StepRunner): string | null {
  return STEP_RUNNER_LABELS[engine];
}

/** The tab title without the app name: "45% · Generating…" while it runs. */
export function jobTitle(job: Pick<PublicJob, "status" | "stage" | "progress">): string {
  const label = STAGE_LABELS[job.stage];
  if (job.status === "succeeded" || job.status === "failed" || job.status === "canceled") return label;
  return job.progress === null ? label : `${Math.round(job.progress)}% · ${label}`;
}

/** "8 s", "1 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, "0")} s`;
  return `${s} s`;
}

export { formatWaitEstimate };

/**
 * A waiting job's place in words: "Place in line: 3 · 2 ahead of you · starts in about 4
 * minutes (estimate)". Null when the job is not waiting.
 */
export function queueText(job: Pick<PublicJob, "queuePosition" | "queueWaitSeconds">): string | null {
  const position = job.queuePosition;
  if (position === null) return null;
  const ahead = position - 1;
  const who = ahead === 0 ? "you are next" : ahead === 1 ? "1 ahead of you" : `${ahead} ahead of you`;
  const wait =
    job.queueWaitSeconds === null
      ? ""
      : job.queueWaitSeconds === 0
        ? " · starts as soon as a slot is free"
        : ` · starts in ${formatWaitEstimate(job.queueWaitSeconds)} (estimate)`;
  return `Place in line: ${position} · ${who}${wait}`;
}
