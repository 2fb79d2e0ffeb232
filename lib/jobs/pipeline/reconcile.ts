import "server-only";
import { getEngine } from "@/lib/engines";
import type { Engine } from "@/lib/engines/types";
import { CREATE_DEADLINE_MS } from "@/lib/engines/replicate/client";
import { env } from "@/lib/env";
import { proceed } from "@/lib/jobs/pipeline/dispatch";
import { applyEvent } from "@/lib/jobs/pipeline/advance";
import { cancelOrphan } from "@/lib/jobs/pipeline/orphans";
import { predictionEvent } from "@/lib/jobs/domain/prediction-event";
import { findCreatedRuns } from "@/lib/jobs/pipeline/recover-start";
import { isTerminal, type Job, type Step } from "@/lib/core/job";
import { maxAttempts, retryDueAt } from "@/lib/jobs/domain/retry";
import { findStep, nextStep, runningStep } from "@/lib/jobs/domain/steps";
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
/** Saving runs in the app and holds a lease while it works (see lease.ts); without one it is lost after this. */
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
  if (step?.ref && step.engine !== "local" && e.APP_URL)
    return Math.max(MIN_INTERVAL_SECONDS, e.RECONCILE_AFTER_SECONDS);
  return MIN_INTERVAL_SECONDS;
}

/** Pure and cheap: whether a job read by a status request looks like it needs a nudge. */
export function needsReconcile(job: Job, now: number): boolean {
  if (isTerminal(job.status)) return false;
  const quiet = now - job.lastEventAt;
  const running = runningStep(job);
  if (!running) {
    const next = nextStep(job);
    return next !== null && quiet >= BETWEEN_STEPS_MS && retryDueAt(findStep(job, next)!) <= now;
  }
  if (running.ref === null) {
    if ((running.leaseUntil ?? 0) > now) return false;
    // A lease that ran out: whoever held it stopped renewing it (its process died).
    if (running.leaseUntil) return true;
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
  const limit = maxAttempts(step.name);
  if (step.attempt < limit) {
    await applyEvent(job.id, {
      type: "step.reset",
      step: step.name,
      attempt: step.attempt,
      reason: `${why} Trying again.`,
    });
  } else {
    await applyEvent(job.id, {
      type: "step.fail",
      step: step.name,
      attempt: step.attempt,
      error: `${why} It could not be resumed after ${limit} attempts.`,
    });
  }
}

/**
 * Looks for the run(s) this attempt's create made (recover-start.ts). Adopts the first through
 * the transition, as its first webhook would have, and cancels any other. Throws, so that nothing
 * is started again, when the engine cannot be asked.
 */
async function adoptCreatedRun(engine: Engine, job: Job, step: Step): Promise<boolean> {
  const runs = await findCreatedRuns(engine, job, step);
  const [keep, ...extra] = runs;
  if (!keep) return false;
  const result = await applyEvent(job.id, predictionEvent(job, step.name, keep.prediction, step.attempt));
  jobLog(job.id).warn(
    { step: step.name, attempt: step.attempt, ref: keep.prediction.id, by: keep.by, adopted: Boolean(result?.changed) },
    "found the run of a create that was never recorded",
  );
  // Runs named by the same attempt's webhook are one too many; an input match may be another job's.
  for (const run of extra) if (run.by === "webhook") await cancelOrphan(job.id, engine.id, run.prediction.id);
  return true;
}

async function reconcileOnce(jobId: string): Promise<void> {
  const store = getStore();
  const job = await store.get(jobId);
  if (!job || !needsReconcile(job, Date.now())) return;
  // Across instances and viewers: one check per job per spacing, remembered in the store.
  if (!(await store.setOnce(`reconcile:${jobId}`, checkSpacingSeconds(job)))) return;
  const step = runningStep(job);
  if (!step) return proceed(jobId);
  const engine = step.engine === "replicate" || step.engine === "local" ? await getEngine(step.engine) : null;
  if (step.ref === null) {
    // Before this step is started again: a run that was created but never recorded is adopted.
    if (engine && (await adoptCreatedRun(engine, job, step))) return proceed(jobId);
    await lost(
      job,
      step,
      step.name === "save" ? "Saving the video was interrupted." : "The engine never confirmed the start of this step.",
    );
    return proceed(jobId);
  }
  if (!engine) return;
  const prediction = await engine.get(step.ref);
  if (!prediction) {
    await lost(
      job,
      step,
      step.engine === "local"
        ? "The local render was interrupted (the server restarted)."
        : "The provider no longer knows this run.",
    );
    return proceed(jobId);
  }
  const result = await applyEvent(jobId, predictionEvent(job, step.name, prediction));
  if (result?.changed) await proceed(jobId);
}
