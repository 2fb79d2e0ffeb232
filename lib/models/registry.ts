import { readLocalOutput } from "@/lib/engines/local/local-output";
import type { EngineId, JobParams, StepName, StepRunner } from "@/lib/core/job";

/**
 * Every video model the app offers, in one place: what it supports, how the common parameters
 * map onto its input, how to read its output, and how long it usually runs.
 * Inputs were taken from each model's page; check `GET /v1/models/{owner}/{name}` (its
 * `latest_version.openapi_schema`) before changing one.
 */

export type ParamName = keyof JobParams;

export type ModelParams = {
  duration?: { options: number[]; default: number };
  aspectRatio?: { options: string[]; default: string };
  resolution?: { options: string[]; default: string };
  seed?: true;
  negativePrompt?: true;
};

/**
 * The images a model takes as frames of its video, under the model's own input names (from its
 * published schema). A model without `first` takes no images.
 */
export type ModelImages = { first: string; last?: string };

/** How predictions.create names a model on Replicate: an official model, or a pinned version. */
export type ModelTarget = { model: `${string}/${string}` } | { version: string };

export type ModelDef = {
  id: string;
  engine: EngineId;
  label: string;
  description: string;
  /** How predictions.create names it; null for a model that does not run on Replicate. */
  ref: ModelTarget | null;
  params: ModelParams;
  /** Which frames it takes as images, and its input names for them; absent: text only. */
  images?: ModelImages;
  /** Length in seconds of every clip, for a model without a duration setting (the sound step needs it). */
  clipSeconds?: number;
  /** The model makes its own soundtrack, so the sound step has nothing to add. */
  ownAudio: boolean;
  /** Typical wall-clock run time once started, for progress estimates when the logs say nothing. */
  typicalSeconds: number;
  /** Builds the model's input from the final prompt and the job's parameters. */
  toInput(prompt: string, params: JobParams): Record<string, unknown>;
  /** The video URL in the model's output, or null when the output holds none. */
  readOutput(output: unknown): string | null;
};

/** A single URL string, or an array of URLs whose first entry is the video. */
export function readUrlOutput(output: unknown): string | null {
  const first = Array.isArray(output) ? output[0] : output;
  return typeof first === "string" && /^https?:\/\//.test(first) ? first : null;
}

function compact(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined && v !== ""));
}

/** The input of models that take duration, aspect_ratio, resolution and seed under those names. */
function durationAspectResolutionSeed(prompt: string, p: JobParams): Record<string, unknown> {
  return compact({ prompt, duration: p.duration, aspect_ratio: p.aspectRatio, resolution: p.resolution, seed: p.seed });
}

export const LOCAL_MODEL_ID = "local/preview";

export { DEFAULT_MODEL_ID, defaultModel } from "@/lib/models/default-model";

export const MODELS: readonly ModelDef[] = [
  {
    id: "minimax/video-01",
    engine: "replicate",
    label: "MiniMax Video-01",
    description: "6-second 720p clips with strong prompt following (the original Prompt2Video model).",
    ref: { model: "minimax/video-01" },
    params: {},
    clipSeconds: 6,
    images: { first: "first_frame_image" },
    ownAudio: false,
    typicalSeconds: 240,
    // The app enhances prompts itself, so MiniMax's own optimizer stays off: the prompt shown is the prompt sent.
    toInput: (prompt) => ({ prompt, prompt_optimizer: false }),
    readOutput: readUrlOutput,
  },
  {
    id: "wan-video/wan-2.2-t2v-fast",
    engine: "replicate",
    label: "Wan 2.2 (fast)",
    description: "Fast open model; about 5 seconds at 16 fps.",
    ref: { model: "wan-video/wan-2.2-t2v-fast" },
    params: {
      duration: { options: [5, 6], default: 5 },
      aspectRatio: { options: ["16:9", "9:16"], default: "16:9" },
      resolution: { options: ["480p", "720p"], default: "480p" },
      seed: true,
    },
    ownAudio: false,
    typicalSeconds: 45,
    // num_frames must lie in 81–100; at 16 fps that is 5 s (81) or 6 s (96).
    toInput: (prompt, p) =>
      compact({
        prompt,
        num_frames: Math.min(100, Math.max(81, Math.round((p.duration ?? 5) * 16) + 1)),
        frames_per_second: 16,
        aspect_ratio: p.aspectRatio,
        resolution: p.resolution,
        seed: p.seed,
      }),
    readOutput: readUrlOutput,
  },
  {
    id: "bytedance/seedance-1-lite",
    engine: "replicate",
    label: "Seedance 1 Lite",
    description: "ByteDance's fast model; 5 or 10 seconds, many aspect ratios.",
    ref: { model: "bytedance/seedance-1-lite" },
    params: {
      duration: { options: [5, 10], default: 5 },
      aspectRatio: { options: ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"], default: "16:9" },
      resolution: { options: ["480p", "720p", "1080p"], default: "720p" },
      seed: true,
    },
    images: { first: "image", last: "last_frame_image" },
    ownAudio: false,
    typicalSeconds: 60,
    toInput: durationAspectResolutionSeed,
    readOutput: readUrlOutput,
  },
  {
    id: "bytedance/seedance-1-pro",
    engine: "replicate",
    label: "Seedance 1 Pro",
    description: "ByteDance's higher-quality model; up to 1080p.",
    ref: { model: "bytedance/seedance-1-pro" },
    params: {
      duration: { options: [5, 10], default: 5 },
      aspectRatio: { options: ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"], default: "16:9" },
      resolution: { options: ["480p", "1080p"], default: "1080p" },
      seed: true,
    },
    images: { first: "image", last: "last_frame_image" },
    ownAudio: false,
    typicalSeconds: 120,
    toInput: durationAspectResolutionSeed,
    readOutput: readUrlOutput,
  },
  {
    id: "kwaivgi/kling-v2.1-master",
    engine: "replicate",
    label: "Kling 2.1 Master",
    description: "Kuaishou's top model; 5 or 10 seconds, with a negative prompt.",
    ref: { model: "kwaivgi/kling-v2.1-master" },
    params: {
      duration: { options: [5, 10], default: 5 },
      aspectRatio: { options: ["16:9", "9:16", "1:1"], default: "16:9" },
      negativePrompt: true,
    },
    images: { first: "start_image" },
    ownAudio: false,
    typicalSeconds: 300,
    toInput: (prompt, p) =>
      compact({ prompt, duration: p.duration, aspect_ratio: p.aspectRatio, negative_prompt: p.negativePrompt }),
    readOutput: readUrlOutput,
  },
  {
    id: "google/veo-3-fast",
    engine: "replicate",
    label: "Veo 3 Fast",
    description: "Google's model; makes its own sound.",
    ref: { model: "google/veo-3-fast" },
    params: {
      aspectRatio: { options: ["16:9", "9:16"], default: "16:9" },
      resolution: { options: ["720p", "1080p"], default: "720p" },
      seed: true,
      negativePrompt: true,
    },
    clipSeconds: 8,
    images: { first: "image" },
    ownAudio: true,
    typicalSeconds: 90,
    toInput: (prompt, p) =>
      compact({
        prompt,
        aspect_ratio: p.aspectRatio,
        resolution: p.resolution,
        seed: p.seed,
        negative_prompt: p.negativePrompt,
      }),
    readOutput: readUrlOutput,
  },
  // Listed last: with a token the form opens on an AI model, and the preview stays one choice among them.
  {
    id: LOCAL_MODEL_ID,
    engine: "local",
    label: "Local preview (not AI)",
    description:
      "An animated preview rendered on this server with ffmpeg. Not AI: shapes and colours follow the prompt and style.",
    ref: null,
    params: {
      duration: { options: [4, 5, 6], default: 5 },
      aspectRatio: { options: ["16:9", "9:16", "1:1"], default: "16:9" },
      resolution: { options: ["360p", "480p"], default: "360p" },
      seed: true,
    },
    // The renderer's own names (lib/jobs/domain/step-input.ts): it animates the first frame towards the last.
    images: { first: "image", last: "last_image" },
    ownAudio: false,
    typicalSeconds: 6,
    toInput: durationAspectResolutionSeed,
    readOutput: readLocalOutput,
  },
];

/** The LLM that rewrites prompts (streams tokens: its output is an array of strings). */
export const ENHANCER_MODEL = {
  ref: { model: "meta/meta-llama-3-8b-instruct" as const },
  label: "Llama 3 8B Instruct",
  typicalSeconds: 5,
  toInput: (prompt: string, systemPrompt: string) => ({ prompt, system_prompt: systemPrompt, max_new_tokens: 200 }),
  readOutput: (output: unknown): string | null => {
    const text = Array.isArray(output) ? output.join("") : typeof output === "string" ? output : "";
    return text.trim() === "" ? null : text.trim();
  },
};

/** Video-to-audio model chained after the video step when "Add sound" is on. */
export const SOUND_MODEL = {
  ref: { version: "62871fb59889b2d7c13777f08deb3b36bdff88f7e1d53a50ad7694548a41b484" },
  id: "zsxkib/mmaudio",
  label: "MMAudio",
  typicalSeconds: 40,
  /** `duration` is the video's length, so the soundtrack neither stops early nor runs past the picture. */
  toInput: (videoUrl: string, prompt: string, duration: number | null) =>
    compact({ video: videoUrl, prompt, negative_prompt: "music", duration }),
  readOutput: readUrlOutput,
};

/** The local engine's soundtrack (ffmpeg): a few seconds for a clip. */
export const LOCAL_SOUND = { typicalSeconds: 3, readOutput: readLocalOutput };

/** Saving the video into our storage: a copy and a poster frame. */
const SAVE_SECONDS = 2;
/** A generate step of a model no longer in the registry. */
const UNKNOWN_MODEL_SECONDS = 120;

export type StepModel = {
  /** Typical seconds once running: the server's progress estimate and the page's time left both read it. */
  typicalSeconds: number;
  /** The step's output (a URL or text) in what its engine returned, or null when there is none. */
  readOutput: (output: unknown) => string | null;
};

const noOutput = () => null;

/** What runs step `step` of a job on model `modelId` when `runner` runs it. */
export function stepModel(modelId: string, step: StepName, runner: StepRunner): StepModel {
  switch (step) {
    case "enhance":
      // The rule-based enhancer answers at once.
      return runner === "replicate" ? ENHANCER_MODEL : { typicalSeconds: 0, readOutput: noOutput };
    case "generate":
      return findModel(modelId) ?? { typicalSeconds: UNKNOWN_MODEL_SECONDS, readOutput: noOutput };
    case "sound":
      return runner === "local" ? LOCAL_SOUND : SOUND_MODEL;
    case "save":
      return { typicalSeconds: SAVE_SECONDS, readOutput: noOutput };
  }
}

/** The model a step runs on Replicate, or null when that step of this model does not run there. */
export function replicateTarget(modelId: string | null, step: StepName): ModelTarget | null {
  if (step === "enhance") return ENHANCER_MODEL.ref;
  if (step === "sound") return SOUND_MODEL.ref;
  if (step === "generate" && modelId !== null) return findModel(modelId)?.ref ?? null;
  return null;
}

export function findModel(id: string): ModelDef | undefined {
  return MODELS.find((m) => m.id === id);
}

export function getModel(id: string): ModelDef {
  const model = findModel(id);
  if (!model) throw new Error(`Unknown model: ${id}`);
  return model;
}

/** The models on offer: the local preview always, the Replicate ones when a token is set. */
export function availableModels(replicateConfigured: boolean): ModelDef[] {
  return MODELS.filter((m) => m.engine === "local" || replicateConfigured);
}

/** How long a job's clip is: its duration setting, or the model's fixed clip length. */
export function clipSeconds(model: ModelDef, params: JobParams): number | null {
  return params.duration ?? model.params.duration?.default ?? model.clipSeconds ?? null;
}

/** The settings a person can give (a form, the API); undefined: not given. */
export type Settings = {
  duration?: number;
  aspectRatio?: string;
  resolution?: string;
  seed?: number;
  negativePrompt?: string;
};

function offered<T extends string | number>(value: T | undefined, spec: { options: T[] } | undefined): T | undefined {
  return value !== undefined && spec?.options.includes(value) ? value : undefined;
}

/**
 * The settings among `given` that `model` takes (one of its options; a seed or a negative prompt
 * when it takes one); the others are left out. The one answer to "which parameters does this
 * model take", for a new job and for the same prompt on another model.
 */
export function settingsFor(model: ModelDef, given: Settings): Settings {
  const p = model.params;
  return {
    duration: offered(given.duration, p.duration),
    aspectRatio: offered(given.aspectRatio, p.aspectRatio),
    resolution: offered(given.resolution, p.resolution),
    seed: p.seed ? given.seed : undefined,
    negativePrompt: p.negativePrompt ? given.negativePrompt : undefined,
  };
}

/** A job's parameters on `model`: the given settings it takes, its defaults for the rest it supports, null for what it does not. */
export function paramsFor(model: ModelDef, given: Settings = {}): JobParams {
  const s = settingsFor(model, given);
  const p = model.params;
  return {
    duration: p.duration ? (s.duration ?? p.duration.default) : null,
    aspectRatio: p.aspectRatio ? (s.aspectRatio ?? p.aspectRatio.default) : null,
    resolution: p.resolution ? (s.resolution ?? p.resolution.default) : null,
    seed: s.seed ?? null,
    negativePrompt: s.negativePrompt ?? null,
  };
}

/** Parameters for a model: its defaults for what it supports, null for what it does not. */
export function defaultParams(model: ModelDef): JobParams {
  return paramsFor(model);
}

/** Frame size of the local preview for an aspect ratio and resolution (640 px wide by default). */
export function localFrameSize(
  aspectRatio: string | null,
  resolution: string | null,
): { width: number; height: number } {
  const short = resolution === "480p" ? 480 : 360;
  const even = (n: number) => Math.round(n / 2) * 2;
  switch (aspectRatio) {
    case "9:16":
      return { width: short, height: even((short * 16) / 9) };
    case "1:1":
      return { width: short, height: short };
    default:
      return { width: even((short * 16) / 9), height: short };
  }
}
