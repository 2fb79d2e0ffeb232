import { negativePromptAsSent } from "@/lib/jobs/domain/prompt-as-sent";
import { STEP_NAMES, STEP_RUNNERS, type PublicJob, type StepName, type StepRunner } from "@/lib/core/job";
import { stepModel } from "@/lib/models/registry";
import { STYLES } from "@/lib/styles";

/**
 * What the job page shows that is fixed when the job is made (its style's words, the negative
 * prompt as sent, how long each step typically takes), worked out on the server from the model
 * registry and the styles. Passed to the page's client components as data, so that the registry
 * and the styles (about 3 kB gzipped) are not part of the page's JavaScript.
 */
export type JobFacts = {
  style: { label: string; description: string } | null;
  negativePromptAsSent: string | null;
  /** Seconds a step usually takes for this job's model, by who runs it (the registry's `stepModel`). */
  typicalSeconds: TypicalSeconds;
};

export type TypicalSeconds = Record<StepName, Partial<Record<StepRunner, number>>>;

export function jobFacts(job: Pick<PublicJob, "style" | "model" | "params">): JobFacts {
  const style = STYLES.find((s) => s.id === job.style);
  return {
    style: style ? { label: style.label, description: style.description } : null,
    negativePromptAsSent: negativePromptAsSent(job),
    typicalSeconds: Object.fromEntries(
      STEP_NAMES.map((step) => [
        step,
        Object.fromEntries(STEP_RUNNERS.map((runner) => [runner, stepModel(job.model, step, runner).typicalSeconds])),
      ]),
    ) as TypicalSeconds,
  };
}
