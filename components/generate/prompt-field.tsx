"use client";

import { EnhancePanel } from "@/components/generate/enhance-panel";
import type { GenerateFormValues } from "@/components/generate/form-values";
import { controlClasses, describedBy, FieldError, Label } from "@/components/ui/field";
import { PROMPT_MAX, PROMPT_MIN } from "@/lib/jobs/domain/form-limits";

/** The prompt, its length against the limit, and the Enhance panel under it. */
export function PromptField(props: {
  id: string;
  values: Pick<GenerateFormValues, "prompt" | "style" | "enhancedPrompt">;
  errors: Partial<Record<string, string>>;
  disabled: boolean;
  onChange: (field: "prompt" | "enhancedPrompt", value: string) => void;
}) {
  const { id, values, errors } = props;
  const promptLength = values.prompt.trim().length;
  const promptOver = values.prompt.length > PROMPT_MAX;
  return (
    <div className="space-y-1.5">
      <Label htmlFor={`${id}-prompt`}>Prompt</Label>
      <textarea
        id={`${id}-prompt`}
        name="prompt"
        rows={4}
        value={values.prompt}
        onChange={(e) => props.onChange("prompt", e.target.value)}
        placeholder="A lighthouse on a cliff at dusk, waves crashing below, seagulls circling"
        aria-invalid={errors.prompt ? true : undefined}
        aria-describedby={describedBy(`${id}-prompt-count`, errors.prompt && `${id}-prompt-error`)}
        className={controlClasses(Boolean(errors.prompt), "min-h-28 resize-y text-base sm:text-sm")}
      />
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-1">
        <FieldError id={`${id}-prompt-error`} message={errors.prompt} />
        <p
          id={`${id}-prompt-count`}
          className={`ml-auto text-sm tabular-nums ${promptOver ? "font-medium text-red-700 dark:text-red-300" : "text-zinc-600 dark:text-zinc-400"}`}
        >
          {values.prompt.length} / {PROMPT_MAX} characters
          {promptLength < PROMPT_MIN ? <span className="sr-only"> (at least {PROMPT_MIN})</span> : null}
        </p>
      </div>
      <EnhancePanel
        id={id}
        prompt={values.prompt}
        style={values.style}
        value={values.enhancedPrompt}
        error={errors.enhancedPrompt}
        disabled={props.disabled}
        onChange={(enhanced) => props.onChange("enhancedPrompt", enhanced)}
      />
    </div>
  );
}
