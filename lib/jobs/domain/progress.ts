import { parseProgressFromLogs } from "replicate";
import type { Job, StepName } from "@/lib/core/job";

/** Overall and per-step progress: step weights, tqdm lines in logs, and time-based estimates. */

/** Share of the overall progress bar each step takes (skipped steps take none). */
export const STEP_WEIGHTS: Record<StepName, number> = { enhance: 10, generate: 70, sound: 15, save: 5 };

export function weightTotal(job: Job): number {
  return job.steps.filter((s) => s.state !== "skipped").reduce((n, s) => n + STEP_WEIGHTS[s.name], 0) || 1;
}
/** Estimates never claim to be done: the last stretch is only known when the engine says so. */
const ESTIMATE_CAP = 95;

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
