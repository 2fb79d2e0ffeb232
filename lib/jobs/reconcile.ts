import "server-only";
import { getEngine } from "@/lib/engines";
import { CREATE_DEADLINE_MS } from "@/lib/engines/replicate/client";
import { env } from "@/lib/env";
import { advance, applyEvent, MAX_ATTEMPTS } from "@/lib/jobs/pipeline";
import { predictionEvent } from "@/lib/jobs/prediction-event";
import { isTerminal, type Job, type Step } from "@/lib/jobs/schema";
import { nextStep, runningStep } from "@/lib/jobs/transition";
import { jobLog } from "@/lib/log";
import { getStore } from "@/lib/store";

/**
 * When webhooks cannot reach us (no public APP_URL), are lost, or the process that ran a step
 * died, the app asks the engine itself and applies the answer through the same transition
 * function. At most one reconciliation per job runs at a time in a process, and at most one per
 * checkSpacingSeconds across instances, however many viewers poll.
 */

const MIN_INTERVAL_SECONDS = 2;
/**
 * A claimed step whose engine never answered with a reference is presumed lost after this. A
 * Replicate create may legitimately take up to CREATE_DEADLINE_MS (backoff on 429, then a
 * request timeout): starting another attempt before then could pay for the same video twice.
 */
const REPLICATE_START_MS = CREATE_DEADLINE_MS + 15_000;
const OTHER_START_MS = 30_000;
/** Saving runs in the app and renews a lease while it works (see lease.ts); without one it is lost after this. */
const SAVE_STUCK_MS = 120_000;
/** The local engine reports every half second; silence this long means its process is gone. */
const LOCAL_SILENCE_MS = 5_000;
/** Between steps: the next step should have been claimed right after the last one finished. */
const BETWEEN_STEPS_MS = 3_000;

function silenceAllowed(step: Step): number {
  if (step.engine === "local") return LOCAL_SILENCE_MS;
  return env().APP_URL ? env().RECONCILE_AFTER_SECONDS * 1000 : MIN_INTERVAL_SECONDS * 1000;
}

function stuckAfterMs(step: Step): number {
  if (step.name === "save") return SAVE_STUCK_MS;
  return step.engine === "replicate" ? REPLICATE_START_MS : OTHER_START_MS;
}

/**
 * Seconds before this job may be checked again. Without APP_URL asking is how progress arrives;
 * with it, webhooks do, and a prediction that prints nothing (no logs, so no deliveries) is
 * asked about once per RECONCILE_AFTER_SECONDS, not every few seconds for the whole run.
 */
function checkSpacingSeconds(job: Job): number {
  const step = runningStep(job);
  const e = env();
  if (step?.ref && step.engine !== "local" && e.APP_URL) return Math.max(MIN_INTERVAL_SECONDS, e.RECONCILE_AFTER_SECONDS);
  return MIN_INTERVAL_SECONDS;
}

/** Pure and cheap: whether a job read by a status request looks like it needs a nudge. */
export function needsReconcile(job: Job, now: number): boolean {
  if (isTerminal(job.status)) return false;
  const quiet = now - job.lastEventAt;
  const running = runningStep(job);
  if (!running) return nextStep(job) !== null && quiet >= BETWEEN_STEPS_MS;
  if (running.ref === null) {
    if ((running.leaseUntil ?? 0) > now) return false;
    return now - (running.startedAt ?? job.lastEventAt) >= stuckAfterMs(running);
  }
  return quiet >= silenceAllowed(running);
}

const inFlight = new Map<string, Promise<void>>();

export function reconcile(jobId: string): Promise<void> {
  const running = inFlight.get(jobId);
  if (running) return running;
  const promise = reconcileOnce(jobId)
    .catch((error: unknown) => {
      jobLog(jobId).warn({ err: error instanceof Error ? error.message : String(error) }, "reconcile failed");
    })
    .finally(() => inFlight.delete(jobId));
  inFlight.set(jobId, promise);
  return promise;
}

async function lost(job: Job, step: Step, why: string): Promise<void> {
  jobLog(job.id).warn({ step: step.name, attempt: step.attempt }, why);
  if (step.attempt < MAX_ATTEMPTS) {
    await applyEvent(job.id, { type: "step.reset", step: step.name, attempt: step.attempt, reason: `${why} Trying again.` });
  } else {
    await applyEvent(job.id, { type: "step.fail", step: step.name, attempt: step.attempt, error: `${why} It could not be resumed after ${MAX_ATTEMPTS} attempts.` });
  }
}

async function reconcileOnce(jobId: string): Promise<void> {
  const store = getStore();
  const job = await store.get(jobId);
  if (!job || !needsReconcile(job, Date.now())) return;
  // Across instances and viewers: one check per job per spacing, remembered in the store.
  if (!(await store.setOnce(`reconcile:${jobId}`, checkSpacingSeconds(job)))) return;
  const step = runningStep(job);
  if (!step) return advance(jobId);
  if (step.ref === null) {
    await lost(job, step, step.name === "save" ? "Saving the video was interrupted." : "The engine never confirmed the start of this step.");
    return advance(jobId);
  }
  const engine = await getEngine(step.engine === "local" ? "local" : "replicate");
  const prediction = await engine.get(step.ref);
  if (!prediction) {
    await lost(job, step, step.engine === "local" ? "The local render was interrupted (the server restarted)." : "The provider no longer knows this run.");
    return advance(jobId);
  }
  const result = await applyEvent(jobId, predictionEvent(job, step.name, prediction));
  if (result?.changed) await advance(jobId);
}

/** After a restart: resume recent jobs that were left unfinished, without waiting for a viewer. */
export async function resumeUnfinished(limit = 200): Promise<number> {
  const jobs = await getStore().listRecent(limit);
  const now = Date.now();
  const pending = jobs.filter((j) => !isTerminal(j.status));
  for (const job of pending) {
    if (needsReconcile(job, now)) await reconcile(job.id);
  }
  return pending.length;
}
