import type { ModelOption } from "@/lib/jobs/adapters/queries";
import { SEED_MAX } from "@/lib/jobs/domain/form-limits";
import { FRAME_FIELDS, FRAMES, type Frame } from "@/lib/core/frame-image";
import { FORM_OPTION_DEFAULTS } from "@/lib/jobs/domain/form-defaults";
import { defaultModel } from "@/lib/models/default-model";
import { DEFAULT_STYLE, isStyleId, type StyleId } from "@/lib/style-ids";

/**
 * The generate form's values as the browser holds them: strings for text and select fields,
 * booleans for checkboxes. Names match the createJob FormData fields.
 */
export type GenerateFormValues = {
  prompt: string;
  style: StyleId;
  model: string;
  duration: string;
  aspectRatio: string;
  resolution: string;
  seed: string;
  negativePrompt: string;
  enhance: boolean;
  sound: boolean;
  enhancedPrompt: string;
  remixOf: string;
  /** "1" to MAX_TAKES. */
  takes: string;
  /** Other models to run the prompt on. */
  compare: string[];
};

export type ParamField = "duration" | "aspectRatio" | "resolution" | "seed" | "negativePrompt";

/** The chosen model's defaults for what it supports; what it does not support is emptied. */
export function paramsFor(
  model: ModelOption | undefined,
  current: Partial<Pick<GenerateFormValues, ParamField>> = {},
): Pick<GenerateFormValues, ParamField> {
  const p = model?.params ?? {};
  const keep = <T extends string | number>(
    value: string | undefined,
    spec: { options: T[]; default: T } | undefined,
  ) => (spec ? (spec.options.map(String).includes(value ?? "") ? (value as string) : String(spec.default)) : "");
  return {
    duration: keep(current.duration, p.duration),
    aspectRatio: keep(current.aspectRatio, p.aspectRatio),
    resolution: keep(current.resolution, p.resolution),
    seed: p.seed ? (current.seed ?? "") : "",
    negativePrompt: p.negativePrompt ? (current.negativePrompt ?? "") : "",
  };
}

/** Starting values: the given ones where valid, else the default model's defaults. */
export function initialFormValues(
  models: readonly ModelOption[],
  initial: Partial<GenerateFormValues> = {},
): GenerateFormValues {
  const model = models.find((m) => m.id === initial.model) ?? defaultModel(models);
  return {
    prompt: initial.prompt ?? "",
    style: initial.style && isStyleId(initial.style) ? initial.style : DEFAULT_STYLE,
    model: model?.id ?? "",
    ...paramsFor(model, initial),
    enhance: initial.enhance ?? FORM_OPTION_DEFAULTS.enhance,
    sound: initial.sound ?? FORM_OPTION_DEFAULTS.sound,
    enhancedPrompt: initial.enhancedPrompt ?? "",
    remixOf: initial.remixOf ?? "",
    takes: initial.takes ?? "1",
    compare: initial.compare ?? [],
  };
}

/**
 * Pre-fills from the URL (`/?prompt=…&style=anime&model=…&duration=5&seed=42&sound=on`).
 * Unknown or malformed values are dropped here and fall back to defaults in initialFormValues.
 */
export function valuesFromSearchParams(
  params: Record<string, string | string[] | undefined>,
): Partial<GenerateFormValues> {
  const one = (name: string): string | undefined => {
    const v = params[name];
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined ? undefined : s.slice(0, 4000);
  };
  const flag = (name: string): boolean | undefined => {
    const v = one(name);
    if (v === undefined) return undefined;
    return ["on", "true", "1", "yes"].includes(v);
  };
  const out: Partial<GenerateFormValues> = {};
  const text = [
    "prompt",
    "model",
    "duration",
    "aspectRatio",
    "resolution",
    "seed",
    "negativePrompt",
    "enhancedPrompt",
    "remixOf",
  ] as const;
  for (const name of text) {
    const v = one(name);
    if (v !== undefined) out[name] = v;
  }
  const style = one("style");
  if (style && isStyleId(style)) out.style = style;
  const enhance = flag("enhance");
  if (enhance !== undefined) out.enhance = enhance;
  const sound = flag("sound");
  if (sound !== undefined) out.sound = sound;
  return out;
}

/** Server actions return the submitted fields as strings; read them back into form values. */
export function valuesFromSubmitted(submitted: Record<string, string>): Partial<GenerateFormValues> {
  return {
    ...valuesFromSearchParams(submitted),
    enhance: submitted.enhance === "on",
    sound: submitted.sound === "on",
  };
}

/** The FormData createJob expects: only the parameters the model supports are sent, and the frames it takes. */
export function toFormData(
  values: GenerateFormValues,
  model: ModelOption | undefined,
  frames: Partial<Record<Frame, File>> = {},
): FormData {
  const fd = new FormData();
  fd.set("prompt", values.prompt);
  fd.set("style", values.style);
  fd.set("model", values.model);
  const p = model?.params ?? {};
  if (p.duration) fd.set("duration", values.duration);
  if (p.aspectRatio) fd.set("aspectRatio", values.aspectRatio);
  if (p.resolution) fd.set("resolution", values.resolution);
  if (p.seed) fd.set("seed", values.seed.trim());
  if (p.negativePrompt) fd.set("negativePrompt", values.negativePrompt);
  if (values.enhance) fd.set("enhance", "on");
  if (values.sound) fd.set("sound", "on");
  if (values.enhancedPrompt) fd.set("enhancedPrompt", values.enhancedPrompt);
  if (values.remixOf) fd.set("remixOf", values.remixOf);
  // Compared models win over takes: the form offers one or the other.
  const compare = values.compare.filter((id) => id !== values.model);
  if (compare.length > 0) fd.set("compare", compare.join(","));
  else if (values.takes !== "1") fd.set("takes", values.takes);
  for (const frame of FRAMES) {
    const file = frames[frame];
    if (file) fd.set(FRAME_FIELDS[frame], file, file.name || `${frame}-frame`);
  }
  return fd;
}

export function randomSeed(): number {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return (buf[0] ?? 0) % (SEED_MAX + 1);
}
