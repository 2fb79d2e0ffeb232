import { Button } from "@/components/ui/button";
import { controlClasses, describedBy, FieldError, FieldHint, Label } from "@/components/ui/field";
import type { GenerateFormValues, ParamField } from "@/components/generate/form-values";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import { NEGATIVE_PROMPT_MAX } from "@/lib/jobs/domain/form-limits";
import { DiceIcon } from "@/components/ui/icons";

const ASPECT_NAMES: Record<string, string> = {
  "16:9": "landscape",
  "9:16": "portrait",
  "1:1": "square",
  "4:3": "classic",
  "3:4": "classic portrait",
  "21:9": "ultrawide",
  "9:21": "tall",
};

/** The settings of the chosen model, and only those: a model without a seed shows no seed. */
export function ParamsPanel({
  id,
  model,
  values,
  errors,
  lockSeed,
  onChange,
  onLockSeedChange,
  onRandomSeed,
}: {
  id: string;
  model: ModelOption | undefined;
  values: Pick<GenerateFormValues, ParamField>;
  errors: Partial<Record<string, string>>;
  lockSeed: boolean;
  onChange: (field: ParamField, value: string) => void;
  onLockSeedChange: (locked: boolean) => void;
  onRandomSeed: () => void;
}) {
  const p = model?.params ?? {};
  const none = !p.duration && !p.aspectRatio && !p.resolution && !p.seed && !p.negativePrompt;
  const fieldId = (name: ParamField) => `${id}-${name}`;
  const errorId = (name: ParamField) => `${id}-${name}-error`;

  const select = (
    name: "duration" | "aspectRatio" | "resolution",
    label: string,
    options: { value: string; text: string }[],
  ) => (
    <div className="space-y-1.5">
      <Label htmlFor={fieldId(name)}>{label}</Label>
      <select
        id={fieldId(name)}
        name={name}
        value={values[name]}
        onChange={(e) => onChange(name, e.target.value)}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={describedBy(errors[name] && errorId(name))}
        className={controlClasses(Boolean(errors[name]))}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.text}
          </option>
        ))}
      </select>
      <FieldError id={errorId(name)} message={errors[name]} />
    </div>
  );

  return (
    <fieldset className="space-y-4 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
      <legend className="px-1 text-sm font-medium text-zinc-900 dark:text-zinc-100">Settings</legend>
      {none ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {model?.label ?? "This model"} has no settings to adjust.
        </p>
      ) : null}

      {p.duration || p.aspectRatio || p.resolution ? (
        <div className="grid gap-4 sm:grid-cols-3">
          {p.duration
            ? select(
                "duration",
                "Length",
                p.duration.options.map((s) => ({ value: String(s), text: `${s} seconds` })),
              )
            : null}
          {p.aspectRatio
            ? select(
                "aspectRatio",
                "Aspect ratio",
                p.aspectRatio.options.map((r) => ({
                  value: r,
                  text: ASPECT_NAMES[r] ? `${r} (${ASPECT_NAMES[r]})` : r,
                })),
              )
            : null}
          {p.resolution
            ? select(
                "resolution",
                "Resolution",
                p.resolution.options.map((r) => ({ value: r, text: r })),
              )
            : null}
        </div>
      ) : null}

      {p.seed ? (
        <div className="space-y-1.5">
          <Label htmlFor={fieldId("seed")}>Seed</Label>
          <div className="flex flex-wrap items-center gap-2">
            <input
              id={fieldId("seed")}
              name="seed"
              type="text"
              inputMode="numeric"
              autoComplete="off"
              placeholder="Random"
              value={values.seed}
              onChange={(e) => onChange("seed", e.target.value)}
              aria-invalid={errors.seed ? true : undefined}
              aria-describedby={describedBy(`${id}-seed-hint`, errors.seed && errorId("seed"))}
              className={controlClasses(Boolean(errors.seed), "", "w-40 flex-none")}
            />
            <Button variant="secondary" onClick={onRandomSeed}>
              <DiceIcon className="size-4" />
              Random
            </Button>
            <label className="inline-flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={lockSeed}
                onChange={(e) => onLockSeedChange(e.target.checked)}
                className="size-4 accent-brand-600"
              />
              Lock seed
            </label>
          </div>
          <FieldHint id={`${id}-seed-hint`}>
            {lockSeed
              ? "Locked: this seed is used as is, so the same settings give the same video."
              : "Unlocked: a new random seed is picked for each video."}
          </FieldHint>
          <FieldError id={errorId("seed")} message={errors.seed} />
        </div>
      ) : null}

      {p.negativePrompt ? (
        <div className="space-y-1.5">
          <Label htmlFor={fieldId("negativePrompt")}>Negative prompt</Label>
          <textarea
            id={fieldId("negativePrompt")}
            name="negativePrompt"
            rows={2}
            value={values.negativePrompt}
            onChange={(e) => onChange("negativePrompt", e.target.value)}
            aria-invalid={errors.negativePrompt ? true : undefined}
            aria-describedby={describedBy(
              `${id}-negativePrompt-hint`,
              errors.negativePrompt && errorId("negativePrompt"),
            )}
            className={controlClasses(Boolean(errors.negativePrompt))}
          />
          <FieldHint id={`${id}-negativePrompt-hint`}>
            What to keep out of the video (optional, up to {NEGATIVE_PROMPT_MAX} characters).
          </FieldHint>
          <FieldError id={errorId("negativePrompt")} message={errors.negativePrompt} />
        </div>
      ) : null}
    </fieldset>
  );
}
