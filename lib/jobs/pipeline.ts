import "server-only";
import { getEngine, replicateConfigured } from "@/lib/engines";
import { EngineError, type StartRequest } from "@/lib/engines/types";
import { enhancerSystemPrompt, ruleEnhance } from "@/lib/enhance/rules";
import { saveJobVideo, SaveError } from "@/lib/jobs/save-video";
import type { Job, Step, StepName } from "@/lib/jobs/schema";
import { findStep, nextStep, transition, type JobEvent } from "@/lib/jobs/transition";
import { jobLog } from "@/lib/log";
import { ENHANCER_MODEL, getModel, SOUND_MODEL } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import { applyStyle } from "@/lib/styles";
import { webhookUrl } from "@/lib/webhooks/urls";

/**
 * Drives a job through its steps: enhance → generate → sound → save. Each step is claimed
 * through the transition function first, so however many callers (webhooks, reconciliation,
 * a restart) try at once, exactly one starts it. Engines report back through /api/webhook.
 */

/** Attempts of one step before the job fails instead of retrying (restarts, lost renders, failed copies). */
export const MAX_ATTEMPTS = 3;

export async function applyEvent(jobId: string, event: JobEvent) {
  return getStore().update(jobId, (job) => transition(job, event, Date.now()));
}

function stepEngine(job: Job, name: StepName): string {
  if (name === "save") return "app";
  if (name === "enhance") return findStep(job, "enhance")?.engine === "replicate" && replicateConfigured() ? "replicate" : "rules";
  return job.engine;
}

/** Starts every step that can start now; returns when the job waits on an engine or is finished. */
export async function advance(jobId: string): Promise<void> {
  for (let i = 0; i < 6; i++) {
    const job = await getStore().get(jobId);
    if (!job) return;
    const name = nextStep(job);
    if (!name) return;
    const claimed = await applyEvent(jobId, { type: "step.claim", step: name, engine: stepEngine(job, name) });
    if (!claimed?.changed) return;
    await runStep(claimed.job, findStep(claimed.job, name)!);
  }
}

async function runStep(job: Job, step: Step): Promise<void> {
  const log = jobLog(job.id);
  const { attempt } = step;
  log.info({ step: step.name, attempt, engine: step.engine }, "step started");
  try {
    if (step.engine === "rules") {
      const note = replicateConfigured() ? null : "Rule-based enhancer: no LLM is configured.";
      await applyEvent(job.id, { type: "step.complete", step: step.name, attempt, output: ruleEnhance(job.prompt, job.style), note });
      return;
    }
    if (step.name === "save") {
      const saved = await saveJobVideo(job, attempt);
      await applyEvent(job.id, { type: "saved", attempt, ...saved });
      log.info({ bytes: saved.bytes }, "video saved");
      return;
    }
    const engine = await getEngine(step.engine === "local" ? "local" : "replicate");
    const request = startRequest(job, step);
    const { ref } = await engine.start(request);
    const result = await applyEvent(job.id, { type: "step.ref", step: step.name, attempt, ref });
    log.info({ step: step.name, ref }, "prediction created");
    if (result?.job.status === "canceled") await engine.cancel(ref).catch(() => undefined);
  } catch (error) {
    await stepFailed(job, step, error);
  }
}

async function stepFailed(job: Job, step: Step, error: unknown): Promise<void> {
  const log = jobLog(job.id);
  const retryable = (error instanceof SaveError && !error.permanent) || (error instanceof EngineError && error.code === "unavailable");
  const message = error instanceof SaveError || error instanceof EngineError ? error.message : "An unexpected error stopped this step.";
  log.warn({ step: step.name, attempt: step.attempt, err: error instanceof Error ? error.message : String(error) }, "step failed");
  if (retryable && step.attempt < MAX_ATTEMPTS) {
    // Reconciliation picks the step up again a little later.
    await applyEvent(job.id, { type: "step.reset", step: step.name, attempt: step.attempt, reason: `${message} Retrying.` });
    return;
  }
  await applyEvent(job.id, { type: "step.fail", step: step.name, attempt: step.attempt, error: message });
}

function startRequest(job: Job, step: Step): StartRequest {
  const url = webhookUrl(step.engine === "local" ? "local" : "replicate", job.id, step.name, step.attempt);
  const base = { job, step: step.name, webhookUrl: url };
  const model = getModel(job.model);
  const prompt = job.finalPrompt ?? applyStyle(job.prompt, job.style);
  switch (step.name) {
    case "enhance":
      return { ...base, target: ENHANCER_MODEL.ref, input: ENHANCER_MODEL.toInput(job.prompt, enhancerSystemPrompt(job.style)) };
    case "generate":
      if (step.engine === "local") {
        const p = job.params;
        return { ...base, input: { prompt: job.prompt, style: job.style, duration: p.duration, aspect_ratio: p.aspectRatio, resolution: p.resolution, seed: p.seed } };
      }
      if (!model.ref) throw new EngineError(`${model.label} cannot run on Replicate.`, "invalid_input");
      return { ...base, target: model.ref, input: model.toInput(prompt, job.params) };
    case "sound": {
      const video = findStep(job, "generate")?.output;
      if (!video) throw new EngineError("There is no video to add sound to.", "invalid_input");
      if (step.engine === "local") return { ...base, input: { video, style: job.style, seed: job.params.seed } };
      return { ...base, target: SOUND_MODEL.ref, input: SOUND_MODEL.toInput(video, job.prompt, job.params.duration) };
    }
    case "save":
      throw new Error("The save step runs in the app, not on an engine.");
  }
}
