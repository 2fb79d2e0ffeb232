import { z } from "zod";
import { PREDICTION_STATUSES, type Prediction } from "@/lib/engines/types";
import type { Job, StepName } from "@/lib/core/job";
import type { PredictionEvent } from "@/lib/jobs/domain/transition";
import { stepModel as registryStepModel, type StepModel } from "@/lib/models/registry";

/** The parts of a prediction object (Replicate's shape) that the app reads, validated. */
export const predictionSchema = z.object({
  id: z.string().min(1).max(200),
  status: z.enum(PREDICTION_STATUSES),
  logs: z.string().nullish(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
});

/** How to read a step's output and how long the step usually runs: the registry's answer for who runs it. */
function stepModel(job: Job, step: StepName): StepModel {
  return registryStepModel(job.model, step, job.steps.find((s) => s.name === step)?.engine ?? job.engine);
}

/** Typical seconds of a step, for time-based estimates (the same figure the transition uses). */
export function typicalSeconds(job: Job, step: StepName): number {
  return stepModel(job, step).typicalSeconds;
}

function errorText(error: unknown): string | null {
  if (error === null || error === undefined || error === "") return null;
  const text = typeof error === "string" ? error : JSON.stringify(error);
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

function time(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/** A prediction (from a webhook or from asking the engine) as an event for one step of a job. */
export function predictionEvent(job: Job, step: StepName, prediction: Prediction, attempt?: number): PredictionEvent {
  const { readOutput, typicalSeconds } = stepModel(job, step);
  return {
    type: "prediction",
    step,
    ref: prediction.id,
    attempt,
    status: prediction.status,
    logs: prediction.logs ?? null,
    output: prediction.status === "succeeded" ? readOutput(prediction.output) : null,
    error: errorText(prediction.error),
    startedAt: time(prediction.started_at),
    typicalSeconds,
  };
}
