import { randomBytes } from "node:crypto";
import { jobSchema, STEP_NAMES, type Job, type Step, type StepName, type StepRunner } from "@/lib/core/job";
import { LOCAL_MODEL_ID } from "@/lib/models/registry";
import { DEFAULT_STYLE } from "@/lib/styles";
import { TEST_OWNER_ID } from "./owner";

/** A fresh job id: 16 random bytes, base64url (22 characters). */
export function newJobId(): string {
  return randomBytes(16).toString("base64url");
}

const STEP_ENGINES: Record<StepName, StepRunner> = { enhance: "rules", generate: "local", sound: "local", save: "app" };

export function makeStep(name: StepName, overrides: Partial<Step> = {}): Step {
  return {
    name,
    state: "waiting",
    engine: STEP_ENGINES[name],
    ref: null,
    attempt: 0,
    startedAt: null,
    completedAt: null,
    runningAt: null,
    progress: null,
    progressEstimated: false,
    logsLength: 0,
    output: null,
    error: null,
    note: null,
    ...overrides,
  };
}

/** A valid queued job on the local engine; anything can be overridden. Validated by jobSchema. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  const now = overrides.createdAt ?? Date.now();
  return jobSchema.parse({
    id: newJobId(),
    seq: 0,
    status: "queued",
    stage: "queued",
    message: "Queued",
    progress: null,
    progressEstimated: false,
    prompt: "A red fox running through fresh snow at dawn",
    finalPrompt: null,
    enhancedPrompt: null,
    style: DEFAULT_STYLE,
    engine: "local",
    model: LOCAL_MODEL_ID,
    params: { duration: 5, aspectRatio: "16:9", resolution: "360p", seed: null, negativePrompt: null },
    options: { enhance: true, sound: false },
    steps: STEP_NAMES.map((name) => makeStep(name, name === "sound" ? { state: "skipped" } : {})),
    videoUrl: null,
    posterUrl: null,
    error: null,
    notice: null,
    engineRef: null,
    ownerId: TEST_OWNER_ID,
    share: null,
    remixOf: null,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    lastEventAt: now,
    ...overrides,
  } satisfies Job);
}

/** A job rendering on the local engine (its generate step running, no ref yet): nothing reconciles it for 30 s. */
export function makeRenderingJob(overrides: Partial<Job> = {}): Job {
  const now = Date.now();
  return makeJob({
    status: "processing",
    stage: "generating",
    message: "Rendering the local preview… 0%",
    progress: 10,
    startedAt: now,
    steps: [
      makeStep("enhance", { state: "done", progress: 100, startedAt: now, completedAt: now }),
      makeStep("generate", { state: "running", attempt: 1, startedAt: now, runningAt: now, progress: 0 }),
      makeStep("sound", { state: "skipped" }),
      makeStep("save"),
    ],
    ...overrides,
  });
}
