import type { Job } from "@/lib/core/job";
import { findModel } from "@/lib/models/registry";
import { applyStyle, mergeNegativePrompts } from "@/lib/styles";

/**
 * The prompts a video model receives, computed in one place for the pipeline (which sends them)
 * and the job page (which shows them as sent). Light enough for client components.
 */

/** The prompt the video model receives: the enhanced one, or the user's styled. */
export function promptAsSent(job: Pick<Job, "finalPrompt" | "prompt" | "style">): string {
  return job.finalPrompt ?? applyStyle(job.prompt, job.style);
}

/** The negative prompt the video model receives (the user's terms, then the style's), or null when the model takes none. */
export function negativePromptAsSent(job: Pick<Job, "model" | "style" | "params">): string | null {
  if (!findModel(job.model)?.params.negativePrompt) return null;
  return mergeNegativePrompts(job.params.negativePrompt, job.style) || null;
}
