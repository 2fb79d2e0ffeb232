"use client";

import { controlClasses, describedBy, FieldError, FieldHint, Label } from "@/components/ui/field";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import { MAX_COMPARED_MODELS } from "@/lib/core/job-status";

/**
 * Several videos from one submission: takes of the prompt (each with its own seed), or the same
 * prompt on other models. Both open a page where they play side by side.
 */
export function VariationsPanel({
  id,
  model,
  models,
  takes,
  compare,
  maxMembers,
  errors,
  disabled,
  onTakes,
  onCompare,
}: {
  id: string;
  model: ModelOption | undefined;
  models: ModelOption[];
  takes: string;
  compare: string[];
  /** How many videos one submission may make here (the spend limits count each). */
  maxMembers: number;
  errors: Partial<Record<string, string>>;
  disabled: boolean;
  onTakes: (takes: string) => void;
  onCompare: (compare: string[]) => void;
}) {
  if (maxMembers < 2) return null;
  const others = models.filter((m) => m.id !== model?.id);
  const comparing = compare.length > 0;
  const maxCompared = Math.min(MAX_COMPARED_MODELS, maxMembers) - 1;
  const toggle = (modelId: string, on: boolean) =>
    onCompare(on ? [...compare.filter((m) => m !== modelId), modelId] : compare.filter((m) => m !== modelId));

  return (
    <fieldset className="space-y-4">
      <legend className="text-sm font-medium text-zinc-900 dark:text-zinc-100">Side by side</legend>
      <div className="space-y-1.5">
        <Label htmlFor={`${id}-takes`}>Takes</Label>
        <select
          id={`${id}-takes`}
          value={comparing ? "1" : takes}
          disabled={disabled || comparing}
          onChange={(e) => onTakes(e.target.value)}
          aria-invalid={errors.takes ? true : undefined}
          aria-describedby={describedBy(`${id}-takes-hint`, errors.takes && `${id}-takes-error`)}
          className={controlClasses(Boolean(errors.takes), "", "w-32")}
        >
          {Array.from({ length: maxMembers }, (_, i) => (
            <option key={i} value={String(i + 1)}>
              {i + 1}
            </option>
          ))}
        </select>
        <FieldHint id={`${id}-takes-hint`}>
          {comparing
            ? "One take per model while comparing models."
            : "More than one: each take gets its own seed, and they play side by side."}
        </FieldHint>
        <FieldError id={`${id}-takes-error`} message={errors.takes} />
      </div>
      {others.length > 0 && maxCompared > 0 ? (
        <div
          className="space-y-1.5"
          role="group"
          aria-labelledby={`${id}-compare-label`}
          aria-describedby={describedBy(`${id}-compare-hint`, errors.compare && `${id}-compare-error`)}
        >
          <p id={`${id}-compare-label`} className="text-sm font-medium text-zinc-900 dark:text-zinc-100">
            Compare with
          </p>
          <FieldHint id={`${id}-compare-hint`}>
            The same prompt on up to {maxCompared === 1 ? "one other model" : `${maxCompared} other models`}, side by
            side.
          </FieldHint>
          <div className="flex flex-wrap gap-x-5 gap-y-2">
            {others.map((m) => {
              const checked = compare.includes(m.id);
              return (
                <label key={m.id} className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={disabled || (!checked && compare.length >= maxCompared)}
                    onChange={(e) => toggle(m.id, e.target.checked)}
                    className="size-4 accent-brand-600"
                  />
                  {m.label}
                </label>
              );
            })}
          </div>
          <FieldError id={`${id}-compare-error`} message={errors.compare} />
        </div>
      ) : null}
    </fieldset>
  );
}
