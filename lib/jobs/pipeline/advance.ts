import "server-only";
import { getEngine, replicateConfigured } from "@/lib/engines";
import { EngineError, type StartRequest } from "@/lib/engines/types";
import { ruleEnhance } from "@/lib/enhance/rules";
import { loadFrameImage } from "@/lib/jobs/pipeline/frame-images";
import { discardOrphanedVideo, saveJobVideo, SaveError } from "@/lib/jobs/pipeline/save-video";
import type { Job, Step, StepName, StepRunner } from "@/lib/core/job";
import { stepInput } from "@/lib/jobs/domain/step-input";
import { withLease } from "@/lib/jobs/pipeline/lease";
import { maxAttempts, retryDueAt } from "@/lib/jobs/domain/retry";
import { cancelOrphan } from "@/lib/jobs/pipeline/orphans";
import { findStep, isOrphan, nextStep } from "@/lib/jobs/domain/steps";
import { transition, type JobEvent } from "@/lib/jobs/domain/transition";
import { queueClock } from "@/lib/jobs/pipeline/queue-clock";
import { jobLog } from "@/lib/log";
import { isStopping } from "@/lib/ops/shutdown";
import { getStore } from "@/lib/store";
import { webhookUrl } from "@/lib/webhooks/urls";

/**
 * Drives a job through its steps: enhance → generate → sound → save. Each step is claimed
 * through the transition function first, so however many callers (webhooks, reconciliation,
 * a restart) try at once, exactly one starts it. Engines report back through /api/webhook.
 */

export async function applyEvent(jobId: string, event: JobEvent) {
  return getStore().update(jobId, (job) => transition(job, event, Date.now()));
}

function stepEngine(job: Job, name: StepName): StepRunner {
  if (name === "save") return "app";
  if (name === "enhance")
    return findStep(job, "enhance")?.engine === "replicate" && replicateConfigured() ? "replicate" : "rules";
  return job.engine;
}

/**
 * Starts every step that can start now; returns when the job waits on an engine, waits in line,
 * or is finished, with the job as last read (null when it is gone).
 */
export async function advance(jobId: string): Promise<Job | null> {
  let job: Job | null = null;
  for (let i = 0; i < 6; i++) {
    // A stopping process starts nothing: the next one (or another instance) picks the step up.
    if (isStopping()) return job;
    job = await getStore().get(jobId);
    if (!job) return null;
    const name = nextStep(job);
    if (!name) return job;
    // A save that failed waits out its backoff; the sweeper starts it when it is due.
    if (retryDueAt(findStep(job, name)!) > Date.now()) return job;
    const claimed = await applyEvent(jobId, { type: "step.claim", step: name, engine: stepEngine(job, name) });
    if (!claimed?.changed) return claimed?.job ?? null;
    await runStep(claimed.job, findStep(claimed.job, name)!);
  }
  return getStore().get(jobId);
}

async function runStep(job: Job, step: Step): Promise<void> {
  const log = jobLog(job.id);
  const { attempt } = step;
  log.info({ step: step.name, attempt, engine: step.engine }, "step started");
  try {
    if (step.engine === "rules") {
      const note = replicateConfigured() ? null : "Rule-based enhancer: no LLM is configured.";
      await applyEvent(job.id, {
        type: "step.complete",
        step: step.name,
        attempt,
        output: ruleEnhance(job.prompt, job.style),
        note,
      });
      return;
    }
    if (step.name === "save") {
      const saved = await withLease(job.id, "save", attempt, () =>
        saveJobVideo(job, attempt, { lastAttempt: attempt >= maxAttempts("save") }),
      );
      const result = await applyEvent(job.id, { type: "saved", attempt, ...saved });
      if (!result?.changed && (await discardOrphanedVideo(job.id))) {
        log.info("the job was deleted or ended while saving; its files were removed");
        return;
      }
      log.info({ bytes: saved.bytes, notice: saved.notice }, "video saved");
      return;
    }
    const engine = await getEngine(step.engine === "local" ? "local" : "replicate");
    const request = await startRequest(job, step);
    const { ref } = await engine.start(request);
    const result = await applyEvent(job.id, { type: "step.ref", step: step.name, attempt, ref });
    log.info({ step: step.name, ref }, "prediction created");
    // While the create was under way the job may have been canceled, or this attempt presumed lost.
    if (isOrphan(result?.job ?? null, step.name, ref, attempt)) await cancelOrphan(job.id, engine.id, ref);
  } catch (error) {
    await stepFailed(job, step, error);
  }
}

async function stepFailed(job: Job, step: Step, error: unknown): Promise<void> {
  const log = jobLog(job.id);
  if (error instanceof EngineError && error.code === "rate_limited") return requeue(job, step, error.retryAfterSeconds);
  if (error instanceof EngineError && error.code === "outcome_unknown") {
    // The run may exist: the step stays as claimed, and reconciliation looks for the run
    // (adopting it) before it ever starts the step again (recover-start.ts).
    const confirmed = await startConfirmed(job.id, step);
    log.warn(
      { step: step.name, attempt: step.attempt, confirmed },
      confirmed
        ? "the create went unanswered, but a delivery of the run arrived"
        : "the create went unanswered; the run is looked for before the step is started again",
    );
    return;
  }
  const retryable =
    (error instanceof SaveError && !error.permanent) || (error instanceof EngineError && error.code === "unavailable");
  const message =
    error instanceof SaveError || error instanceof EngineError
      ? error.message
      : "An unexpected error stopped this step.";
  log.warn(
    { step: step.name, attempt: step.attempt, err: error instanceof Error ? error.message : String(error) },
    "step failed",
  );
  if (retryable && step.attempt < maxAttempts(step.name)) {
    // Reconciliation (a viewer, or the sweeper) picks the step up again when it is due.
    await applyEvent(job.id, {
      type: "step.reset",
      step: step.name,
      attempt: step.attempt,
      reason: `${message} Retrying.`,
    });
    return;
  }
  await applyEvent(job.id, { type: "step.fail", step: step.name, attempt: step.attempt, error: message });
}

/** When a 429 says nothing about how long to wait. */
const DEFAULT_RETRY_AFTER_SECONDS = 10;

/**
 * The engine refused to start the step for now (Replicate's 429): the job goes back to the head
 * of the line and nothing more is sent to that engine until its Retry-After; it is not failed.
 */
async function requeue(job: Job, step: Step, retryAfterSeconds: number | null): Promise<void> {
  const seconds = retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const engine = step.engine === "local" ? "local" : "replicate";
  const until = queueClock().now() + seconds * 1000;
  jobLog(job.id).info(
    { step: step.name, attempt: step.attempt, retryAfterSeconds: seconds },
    "engine busy (429): back in line",
  );
  const reason = `${engine === "replicate" ? "Replicate" : "The engine"} is busy right now; this job is first in line again.`;
  const result = await applyEvent(job.id, { type: "requeue", step: step.name, attempt: step.attempt, reason });
  if (!result?.changed) return;
  // Not in the store's running set (a record admitted before the queue existed): join the line instead.
  if (!(await getStore().queue.requeue(job.id, engine, until))) {
    await getStore().queue.enqueue(
      { jobId: job.id, ownerId: job.ownerId ?? "", engine: job.engine },
      queueClock().now(),
    );
  }
}

/** Whether a delivery already named this attempt's prediction (the webhook URL carries the attempt). */
async function startConfirmed(jobId: string, step: Step): Promise<boolean> {
  const current = await getStore().get(jobId);
  const now = current ? findStep(current, step.name) : undefined;
  return now?.state === "running" && now.attempt === step.attempt && now.ref !== null;
}

/**
 * The step's request, with the job's frame images as files under the model's input names: the
 * Replicate client uploads a File through its files API and sends the file's URL (a data: URI
 * when that API fails), as Replicate's own clients do; the local engine reads the bytes.
 */
export async function startRequest(job: Job, step: Step): Promise<StartRequest> {
  const url = webhookUrl(step.engine === "local" ? "local" : "replicate", job.id, step.name, step.attempt);
  const { frames = [], input } = stepInput(job, step.name, step.engine);
  const withFrames: Record<string, unknown> = { ...input };
  for (const { field, frame } of frames) {
    const image = job.images?.[frame];
    if (!image) continue;
    let bytes: Buffer;
    try {
      bytes = await loadFrameImage(job.id, image);
    } catch (error) {
      throw new EngineError(`The ${frame} frame image could not be read from storage; try again.`, "unavailable", {
        cause: error,
      });
    }
    withFrames[field] = new File([new Uint8Array(bytes)], image.file, { type: image.contentType });
  }
  return { job, step: step.name, webhookUrl: url, input: withFrames };
}
