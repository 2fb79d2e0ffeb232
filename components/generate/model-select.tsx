"use client";

import { controlClasses, describedBy, FieldError, FieldHint, Label } from "@/components/ui/field";
import type { ModelOption } from "@/lib/jobs/adapters/queries";

/** The model picker, with the chosen model's description under it. */
export function ModelSelect(props: {
  id: string;
  models: ModelOption[];
  value: string;
  error?: string;
  onChange: (modelId: string) => void;
}) {
  const { id, models, error } = props;
  const model = models.find((m) => m.id === props.value);
  return (
    <div className="space-y-1.5">
      <Label htmlFor={`${id}-model`}>Model</Label>
      <select
        id={`${id}-model`}
        name="model"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(`${id}-model-hint`, error && `${id}-model-error`)}
        className={controlClasses(Boolean(error))}
      >
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.label}
          </option>
        ))}
      </select>
      <FieldHint id={`${id}-model-hint`}>{model?.description ?? "Pick a model."}</FieldHint>
      <FieldError id={`${id}-model-error`} message={error} />
    </div>
  );
}
