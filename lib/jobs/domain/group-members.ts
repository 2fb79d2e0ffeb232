import type { CreateJobInput } from "@/lib/jobs/domain/request";
import type { JobGroup } from "@/lib/core/job";
import { SEED_MAX } from "@/lib/jobs/domain/form-limits";
import { getModel, settingsFor, type ModelDef } from "@/lib/models/registry";

/**
 * The jobs of one submission: the job itself, or its takes (the same settings, seeds one apart),
 * or the same prompt on each model compared. Pure: the caller gives the random seed.
 */

export type GroupPlan = { kind: JobGroup["kind"] | null; inputs: CreateJobInput[] };

/** The same prompt and options on another model, with the settings that model takes (its defaults for the rest). */
function onModel(input: CreateJobInput, model: ModelDef): CreateJobInput {
  return { ...input, model: model.id, ...settingsFor(model, input) };
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
    inputs: Array.from({ length: takes }, (_, i) => ({
      ...single,
      seed: base === undefined ? undefined : (base + i) % (SEED_MAX + 1),
    })),
  };
}
