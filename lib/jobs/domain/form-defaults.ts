import { defaultModel } from "@/lib/models/default-model";
import { findModel, type ModelDef } from "@/lib/models/registry";
import { DEFAULT_STYLE } from "@/lib/style-ids";

/**
 * The "Generate" form's defaults, for requests that leave fields out (`POST /api/jobs` with only a
 * prompt): the same style, model, model parameters and options the form starts with. The answer
 * lists the defaults that were used, so a caller knows what it got.
 */

export type AppliedDefaults = Partial<{
  style: string;
  model: string;
  duration: number;
  aspectRatio: string;
  resolution: string;
  enhance: boolean;
  sound: boolean;
}>;

/** The form's starting values of its two options. */
export const FORM_OPTION_DEFAULTS = { enhance: true, sound: false } as const;

const absent = (v: string | undefined) => v === undefined || v.trim() === "";

export function withFormDefaults(
  values: Record<string, string>,
  models: readonly ModelDef[],
): { values: Record<string, string>; defaults: AppliedDefaults } {
  const out = { ...values };
  const defaults: AppliedDefaults = {};
  if (absent(out.style)) out.style = defaults.style = DEFAULT_STYLE;
  if (absent(out.model)) {
    const model = defaultModel(models);
    if (model) out.model = defaults.model = model.id;
  }
  // An unknown model gets no parameters: the schema names the model as the problem.
  const model = models.some((m) => m.id === out.model) ? findModel(out.model ?? "") : undefined;
  const p = model?.params;
  if (p?.duration && absent(out.duration)) out.duration = String((defaults.duration = p.duration.default));
  if (p?.aspectRatio && absent(out.aspectRatio)) out.aspectRatio = defaults.aspectRatio = p.aspectRatio.default;
  if (p?.resolution && absent(out.resolution)) out.resolution = defaults.resolution = p.resolution.default;
  for (const option of ["enhance", "sound"] as const) {
    if (absent(out[option])) {
      defaults[option] = FORM_OPTION_DEFAULTS[option];
      out[option] = String(FORM_OPTION_DEFAULTS[option]);
    }
  }
  return { values: out, defaults };
}
