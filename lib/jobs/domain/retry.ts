import type { Step, StepName } from "@/lib/core/job";

/**
 * How often a step is tried, and when the next try may start. A pure rule shared by the pipeline
 * (which starts steps) and reconciliation (which notices a step that is due).
 */

/** Attempts of one step before the job fails instead of retrying (restarts, lost renders, failed copies). */
export const MAX_ATTEMPTS = 3;
/**
 * Saving gets more tries, spread out: a storage outage of a few minutes must not lose a paid
 * video, and the provider deletes its copy one hour after the run. Waits of 30 s, 1, 2, 4 and
 * 8 min put the last try about a quarter of an hour after the first.
 */
export const SAVE_MAX_ATTEMPTS = 6;
const SAVE_FIRST_RETRY_MS = 30_000;

export function maxAttempts(step: StepName): number {
  return step === "save" ? SAVE_MAX_ATTEMPTS : MAX_ATTEMPTS;
}

/** When a waiting step may be started (again): at once, or for a save that failed, after its backoff. */
export function retryDueAt(step: Step): number {
  if (step.name !== "save" || step.state !== "waiting" || step.attempt === 0) return 0;
  return (step.startedAt ?? 0) + SAVE_FIRST_RETRY_MS * 2 ** (step.attempt - 1);
}
