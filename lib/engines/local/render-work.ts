import "server-only";

import { stat } from "node:fs/promises";
import path from "node:path";

import type { Job } from "@/lib/core/job";
import { isLocalOutput } from "@/lib/engines/local/local-output";
import { resolveLocalOutput, writeFrames } from "@/lib/engines/local/render-files";
import { buildRenderPlan, RenderPlanError, type RenderPlan } from "@/lib/engines/local/render-plan";
import type { Work } from "@/lib/engines/local/render-run";
import { buildSoundPlan, SoundPlanError } from "@/lib/engines/local/sound-plan";
import { EngineError } from "@/lib/engines/types";
import { fontPath } from "@/lib/media/ffmpeg";

/**
 * What a step asks of the local engine, checked before anything is queued: the work to run and
 * the prediction's input as reported (Replicate-shaped). Bad input fails `start` at once.
 */

export type PreparedWork = { work: Work; predictionInput: Record<string, unknown> };

function str(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}
function num(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** The render of a generate step; `partPath` is where ffmpeg writes it. */
export async function prepareGenerate(
  rendersDir: string,
  id: string,
  partPath: string,
  job: Job,
  input: Record<string, unknown>,
): Promise<PreparedWork> {
  const prompt = str(input.prompt) ?? job.finalPrompt ?? job.prompt;
  const styleId = str(input.style) ?? job.style;
  const params = {
    duration: num(input.duration) ?? job.params.duration,
    aspectRatio: str(input.aspect_ratio) ?? job.params.aspectRatio,
    resolution: str(input.resolution) ?? job.params.resolution,
    seed: num(input.seed) ?? job.params.seed,
  };
  let font: string;
  try {
    font = fontPath();
  } catch (err) {
    throw new EngineError("The preview renderer's font is missing", "unavailable", { cause: err });
  }
  // Frame images arrive as files (as the Replicate client would upload them): kept beside the render.
  const images = await writeFrames(rendersDir, id, input);
  let plan: RenderPlan;
  try {
    plan = buildRenderPlan({ prompt, styleId, params, outputPath: partPath, fontFile: font, images: images.paths });
  } catch (err) {
    if (err instanceof RenderPlanError) throw new EngineError(err.message, "invalid_input", { cause: err });
    throw err;
  }
  const work: Work = {
    step: "generate",
    plan,
    frames: images.paths ? [images.paths.first, ...(images.paths.last ? [images.paths.last] : [])] : undefined,
  };
  const predictionInput = {
    prompt,
    style: styleId,
    duration: plan.durationSeconds,
    aspect_ratio: params.aspectRatio ?? "16:9",
    resolution: params.resolution ?? "360p",
    seed: plan.seed,
    ...images.described,
  };
  return { work, predictionInput };
}

/** The soundtrack of a sound step, over a local video. */
export async function prepareSound(
  dataDir: string,
  partPath: string,
  job: Job,
  input: Record<string, unknown>,
): Promise<PreparedWork> {
  const video = str(input.video);
  if (!video) throw new EngineError("The sound step needs a video", "invalid_input");
  let videoPath: string;
  if (isLocalOutput(video)) {
    const resolved = resolveLocalOutput(dataDir, video);
    if (!resolved) throw new EngineError("The video reference points outside the renders directory", "invalid_input");
    videoPath = resolved;
  } else if (path.isAbsolute(video)) {
    videoPath = video;
  } else {
    throw new EngineError("The local engine adds sound to local files only", "invalid_input");
  }
  const exists = await stat(/*turbopackIgnore: true*/ videoPath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) throw new EngineError("The video to add sound to is missing", "invalid_input");
  const styleId = str(input.style) ?? job.style;
  try {
    // Validate the style now; the plan itself needs the probed duration.
    buildSoundPlan({ inputPath: videoPath, outputPath: partPath, styleId, durationSeconds: 1 });
  } catch (err) {
    if (err instanceof SoundPlanError) throw new EngineError(err.message, "invalid_input", { cause: err });
    throw err;
  }
  const seed = num(input.seed) ?? job.params.seed;
  const work: Work = { step: "sound", videoPath, styleId, seed };
  const predictionInput = { video, style: styleId, seed };
  return { work, predictionInput };
}
