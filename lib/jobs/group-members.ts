import type { CreateJobInput } from "@/lib/jobs/request";
import type { JobGroup } from "@/lib/jobs/schema";
import { SEED_MAX } from "@/lib/jobs/form-limits";
import { getModel, type ModelDef } from "@/lib/models/registry";

/**
 * The jobs of one submission: the job itself, or its takes (the same settings, seeds one apart),
 * or the same prompt on each model compared. Pure: the caller gives the random seed.
 */

export type GroupPlan = { kind: JobGroup["kind"] | null; inputs: CreateJobInput[] };

/** A setting kept on another model only when that model offers it; else the model's default applies. */
function fits<T extends string | number>(value: T | undefined, spec: { options: T[] } | undefined): T | undefined {
  return value !== undefined && spec?.options.includes(value) ? value : undefined;
}

/** The same prompt and options on another model, with the settings that model supports. */
function onModel(input: CreateJobInput, model: ModelDef): CreateJobInput {
  const p = model.params;
  return {
    ...input,
    model: model.id,
    duration: fits(input.duration, p.duration),
    aspectRatio: fits(input.aspectRatio, p.aspectRatio),
    resolution: fits(input.resolution, p.resolution),
    seed: p.seed ? input.seed : undefined,
    negativePrompt: p.negativePrompt ? input.negativePrompt : undefined,
  };
}

export function groupPlan(input: CreateJobInput, randomSeed: () => number): GroupPlan {
  const single = { ...input, takes: undefined, compare: [] };
  if (input.compare.length > 0) {
    return { kind: "models", inputs: [single, ...input.compare.map((id) => onModel(single, getModel(id)))] };
  }
  const takes = input.takes ?? 1;
  if (takes <= 1) return { kind: null, inputs: [single] };
  // Takes differ by their seed (one apart from the first, which is the one given or a random one);
  // a model without a seed setting varies by itself.
  const base = getModel(input.model).params.seed ? (input.seed ?? randomSeed()) : undefined;
  return {
    kind: "takes",
    inputs: Array.from({ length: takes }, (_, i) => ({ ...single, seed: base === undefined ? undefined : (base + i) % (SEED_MAX + 1) })),
  };
}
