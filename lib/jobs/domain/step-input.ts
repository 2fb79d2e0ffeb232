import { EngineError } from "@/lib/engines/types";
import { enhancerInput } from "@/lib/enhance/rules";
import type { Job, StepName, StepRunner } from "@/lib/core/job";
import type { Frame } from "@/lib/core/frame-image";
import { negativePromptAsSent, promptAsSent } from "@/lib/jobs/domain/prompt-as-sent";
import { findStep } from "@/lib/jobs/domain/steps";
import { clipSeconds, getModel, SOUND_MODEL } from "@/lib/models/registry";

/** What each step sends to its engine, as a pure function of the job. */

/** A frame image the step sends, under the model's own input name; the caller loads its bytes. */
export type FrameInput = { field: string; frame: Frame };

export type StepInput = { input: Record<string, unknown>; frames?: FrameInput[] };

/** The job's frames under the model's input names (only those the model takes). */
export function frameInputs(job: Job): FrameInput[] {
  const names = getModel(job.model).images;
  if (!names) return [];
  const frames: FrameInput[] = [];
  if (job.images?.first) frames.push({ field: names.first, frame: "first" });
  if (job.images?.last && names.last) frames.push({ field: names.last, frame: "last" });
  return frames;
}

/**
 * The input of one step on its engine ("local" or "replicate"). Which model runs it is the
 * registry's choice (replicateTarget); the save step runs in the app and has none.
 */
export function stepInput(job: Job, step: StepName, engine: StepRunner): StepInput {
  const model = getModel(job.model);
  switch (step) {
    case "enhance":
      return { input: enhancerInput(job.prompt, job.style) };
    case "generate": {
      const prompt = promptAsSent(job);
      if (engine === "local") {
        // The renderer captions the video with this prompt (cut to two lines) and takes its colours
        // from it and from the style; the input names are the registry's, as for every model.
        return { input: { ...model.toInput(prompt, job.params), style: job.style }, frames: frameInputs(job) };
      }
      if (!model.ref) throw new EngineError(`${model.label} cannot run on Replicate.`, "invalid_input");
      return {
        input: model.toInput(prompt, { ...job.params, negativePrompt: negativePromptAsSent(job) }),
        frames: frameInputs(job),
      };
    }
    case "sound": {
      const video = findStep(job, "generate")?.output;
      if (!video) throw new EngineError("There is no video to add sound to.", "invalid_input");
      if (engine === "local") return { input: { video, style: job.style, seed: job.params.seed } };
      return { input: SOUND_MODEL.toInput(video, job.prompt, clipSeconds(model, job.params)) };
    }
    case "save":
      throw new Error("The save step runs in the app, not on an engine.");
  }
}
