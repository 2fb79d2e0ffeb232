import { randomBytes } from "node:crypto";
import type { CreateJobInput } from "@/lib/jobs/domain/request";
import type { Job, JobGroup, JobImages, Step, StepName, StepRunner } from "@/lib/core/job";
import { derive } from "@/lib/jobs/domain/derive-status";
import { getModel, paramsFor } from "@/lib/models/registry";
import { applyStyle } from "@/lib/styles";

/** 128 random bits, base64url: unguessable, and safe in URLs and file names. */
export function newJobId(): string {
  return randomBytes(16).toString("base64url");
}

function step(name: StepName, state: Step["state"], engine: StepRunner, note: string | null = null): Step {
  return {
    name,
    state,
    engine,
    ref: null,
    attempt: 0,
    startedAt: null,
    completedAt: null,
    runningAt: null,
    progress: state === "done" ? 100 : null,
    progressEstimated: false,
    logsLength: 0,
    output: null,
    error: null,
    note,
  };
}

export type NewJobOptions = {
  input: CreateJobInput;
  ownerId: string | null;
  /** Whether the enhance step runs an LLM (a Replicate token is set) or the rule-based enhancer. */
  llmEnhancer: boolean;
  now: number;
  id?: string;
  /** Frames already stored under `id`. */
  images?: JobImages;
  /** The job whose last frame this one continues. */
  continuedFrom?: string;
  group?: JobGroup | null;
};

/** The record of a job that was just accepted: every step waiting, skipped, or done by the user. */
export function newJob({
  input,
  ownerId,
  llmEnhancer,
  now,
  id = newJobId(),
  images,
  continuedFrom,
  group,
}: NewJobOptions): Job {
  const model = getModel(input.model);
  const enhancedByUser = input.enhancedPrompt !== undefined && input.enhancedPrompt !== "";
  const enhanceStep = enhancedByUser
    ? {
        ...step("enhance", "done", "you", "Enhanced before generating; edited by you."),
        output: input.enhancedPrompt ?? null,
      }
    : input.enhance
      ? // The same enhancer as the "Enhance" button: the LLM whenever one is configured, whatever the video model.
        step("enhance", "waiting", llmEnhancer ? "replicate" : "rules")
      : step("enhance", "skipped", "none");
  const soundStep = !input.sound
    ? step("sound", "skipped", "none")
    : model.ownAudio
      ? step("sound", "skipped", "none", `${model.label} makes its own sound.`)
      : step("sound", "waiting", model.engine);
  const finalPrompt = enhancedByUser
    ? (input.enhancedPrompt ?? null)
    : input.enhance
      ? null
      : applyStyle(input.prompt, input.style);

  const job: Job = {
    id,
    seq: 0,
    status: "queued",
    stage: "queued",
    message: "Queued.",
    progress: 0,
    progressEstimated: false,
    prompt: input.prompt,
    finalPrompt,
    enhancedPrompt: enhancedByUser ? (input.enhancedPrompt ?? null) : null,
    style: input.style,
    engine: model.engine,
    model: model.id,
    params: paramsFor(model, input),
    options: { enhance: input.enhance || enhancedByUser, sound: input.sound },
    steps: [enhanceStep, step("generate", "waiting", model.engine), soundStep, step("save", "waiting", "app")],
    videoUrl: null,
    posterUrl: null,
    error: null,
    notice: null,
    engineRef: null,
    ownerId,
    share: null,
    remixOf: input.remixOf ?? null,
    ...(images ? { images } : {}),
    ...(continuedFrom ? { continuedFrom } : {}),
    ...(group ? { group } : {}),
    createdAt: now,
    admittedAt: null,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    lastEventAt: now,
  };
  return derive(job);
}
