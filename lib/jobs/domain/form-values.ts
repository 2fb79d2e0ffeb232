import type { Job, SharedJob } from "@/lib/core/job";

/** The form fields that recreate a job's settings (for retry and remix), seed included. */
export function jobFormValues(job: Job): Record<string, string> {
  const p = job.params;
  // A prompt enhanced (and maybe edited) before generating is sent as `enhancedPrompt`, and
  // automatic enhancement stays off: it would not have run, and "discard" means the plain prompt.
  const enhancedByUser = job.steps.find((s) => s.name === "enhance")?.engine === "you" && job.enhancedPrompt !== null;
  const values: Record<string, string | null> = {
    prompt: job.prompt,
    style: job.style,
    model: job.model,
    duration: p.duration === null ? null : String(p.duration),
    aspectRatio: p.aspectRatio,
    resolution: p.resolution,
    seed: p.seed === null ? null : String(p.seed),
    negativePrompt: p.negativePrompt,
    enhancedPrompt: enhancedByUser ? job.enhancedPrompt : null,
    enhance: job.options.enhance && !enhancedByUser ? "on" : null,
    sound: job.options.sound ? "on" : null,
  };
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== null));
}

/** The form fields a shared video gives whoever remixes it: only what its public page shows. */
export function sharedFormValues(shared: SharedJob): Record<string, string> {
  const p = shared.params;
  const values: Record<string, string | null> = {
    prompt: shared.prompt,
    style: shared.style,
    model: shared.model,
    duration: p.duration === null ? null : String(p.duration),
    aspectRatio: p.aspectRatio,
    resolution: p.resolution,
    seed: p.seed === null ? null : String(p.seed),
    enhance: shared.options.enhance ? "on" : null,
    sound: shared.options.sound ? "on" : null,
  };
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== null));
}
