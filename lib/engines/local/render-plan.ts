import { localFrameSize } from "@/lib/models/registry";
import { getStyle, type Style } from "@/lib/styles";
import { sanitizeCaption, wrapCaption } from "@/lib/engines/local/caption";
import { escapeFilterValue, n } from "@/lib/engines/local/filter-text";
import { imageGraph } from "@/lib/engines/local/image-graph";
import { compose, pictureGraph } from "@/lib/engines/local/picture-graph";
import { hexToRgb, isGray, mix, promptCues, type Rgb } from "@/lib/engines/local/prompt-cues";
import { deriveSeed, prng } from "@/lib/engines/local/seed";

/**
 * The local preview renderer's recipe: from a prompt, a style and the job's parameters, the
 * ffmpeg arguments of a short animated clip. Pure: no I/O, same input → same arguments.
 *
 * Not AI. A low-resolution field of soft shapes is computed with `geq` (palette, motion and
 * grain from the style, composition from the seed, tints and particles from words in the
 * prompt), scaled up, grained, and captioned with the prompt.
 */

export const PREVIEW_FPS = 24;
export const DEFAULT_DURATION = 5;
export const PREVIEW_LABEL = "Local preview · not AI";
const ASPECTS = ["16:9", "9:16", "1:1"] as const;
const RESOLUTIONS = ["360p", "480p"] as const;
const MIN_DURATION = 1;
const MAX_DURATION = 10;

export type RenderParams = {
  duration?: number | null;
  aspectRatio?: string | null;
  resolution?: string | null;
  seed?: number | null;
};

export type RenderPlanInput = {
  prompt: string;
  styleId: string;
  params: RenderParams;
  /** Where ffmpeg writes the MP4. */
  outputPath: string;
  /** TTF font for drawtext (resolved by the caller: `fontPath()` in lib/media/ffmpeg). */
  fontFile: string;
  /**
   * Image files to animate instead of the generated field: the clip opens on `first` and, with
   * `last`, cross-fades towards it while both pan and zoom slowly.
   */
  images?: { first: string; last?: string | null };
};

export type RenderPlan = {
  args: string[];
  /** The seed the render used: params.seed, or one derived from prompt and style. */
  seed: number;
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
  totalFrames: number;
  /** The caption lines drawn on the video. */
  caption: string[];
};

export class RenderPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderPlanError";
  }
}

function pickOption<T extends string>(value: string | null | undefined, options: readonly T[], name: string): T {
  if (value === null || value === undefined || value === "") return options[0] as T;
  if (!(options as readonly string[]).includes(value)) {
    throw new RenderPlanError(`Unsupported ${name} "${value}" (use ${options.join(", ")})`);
  }
  return value as T;
}

/** Builds the ffmpeg arguments of a preview clip. Throws RenderPlanError on invalid input. */
export function buildRenderPlan(input: RenderPlanInput): RenderPlan {
  let style: Style;
  try {
    style = getStyle(input.styleId);
  } catch {
    throw new RenderPlanError(`Unknown style "${input.styleId}"`);
  }
  const prompt = sanitizeCaption(input.prompt);
  if (!prompt) throw new RenderPlanError("The prompt is empty");

  const aspectRatio = pickOption(input.params.aspectRatio, ASPECTS, "aspect ratio");
  const resolution = pickOption(input.params.resolution, RESOLUTIONS, "resolution");
  const rawDuration = input.params.duration ?? DEFAULT_DURATION;
  if (
    typeof rawDuration !== "number" ||
    !Number.isFinite(rawDuration) ||
    rawDuration < MIN_DURATION ||
    rawDuration > MAX_DURATION
  ) {
    throw new RenderPlanError(`Duration must be between ${MIN_DURATION} and ${MAX_DURATION} seconds`);
  }
  const explicitSeed = input.params.seed;
  if (
    explicitSeed !== null &&
    explicitSeed !== undefined &&
    (!Number.isSafeInteger(explicitSeed) || explicitSeed < 0)
  ) {
    throw new RenderPlanError("The seed must be a whole number ≥ 0");
  }

  const { width, height } = localFrameSize(aspectRatio, resolution);
  const fps = PREVIEW_FPS;
  const totalFrames = Math.round(rawDuration * fps);
  const durationSeconds = totalFrames / fps;
  const seed = deriveSeed(prompt, style.id, explicitSeed);
  // With an explicit seed the composition still depends on the prompt, as with a real model:
  // same prompt + same seed → same clip; another seed → another variation.
  const compositionSeed =
    explicitSeed === null || explicitSeed === undefined
      ? seed
      : (Math.imul(seed, 0x9e3779b1) ^ deriveSeed(prompt, style.id)) >>> 0;
  const cues = promptCues(prompt);
  const comp = compose(prng(compositionSeed), cues.pace, style.preview.motion);

  // Palette: the style's three colours, nudged towards colours the prompt names.
  const palette = style.preview.palette.map(hexToRgb) as [Rgb, Rgb, Rgb];
  const gray = palette.every(isGray);
  const tint = (hex: string): Rgb => {
    const c = hexToRgb(hex);
    if (!gray) return c;
    const l = Math.round(0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]);
    return [l, l, l];
  };
  const t1 = cues.tints[0];
  const t2 = cues.tints[1];
  const accent = t1 ? mix(palette[2], tint(t1), 0.5) : palette[2];
  const mid = t2 ? mix(palette[1], tint(t2), 0.4) : t1 ? mix(palette[1], tint(t1), 0.2) : palette[1];
  const colors: [Rgb, Rgb, Rgb, Rgb] = [palette[0], mid, accent, mix(accent, [255, 255, 255], 0.45)];

  const fromImage = Boolean(input.images?.first);
  const picture = fromImage
    ? imageGraph({
        width,
        height,
        fps,
        totalFrames,
        durationSeconds,
        withLast: Boolean(input.images?.last),
        panSign: seed % 2 === 0 ? 1 : -1,
      })
    : pictureGraph({
        width,
        height,
        fps,
        totalFrames,
        durationSeconds,
        colors,
        comp,
        motion: style.preview.motion,
        tempo: style.preview.sound.tempo,
        particles: cues.particles,
      });

  const fontSize = Math.max(12, Math.round(Math.min(width, height) / 16));
  const pad = Math.round(fontSize * 0.75);
  const lineHeight = Math.round(fontSize * 1.35);
  const maxChars = Math.max(10, Math.floor((width - 2 * pad) / (fontSize * 0.6)));
  const caption = wrapCaption(prompt, maxChars, 2);
  const font = escapeFilterValue(input.fontFile);
  const fade = Math.min(0.4, durationSeconds / 8);

  const post: string[] = [];
  // An image is shown as given from the first frame: no tint, vignette or fade-in over it.
  if (!gray && !fromImage) {
    const h0 = (comp.hueShiftDeg * Math.PI) / 180;
    post.push(`hue=H=${escapeFilterValue(`${n(h0)}+${n(comp.hueSway)}*sin(t*${n(comp.hueSwaySpeed)})`)}`);
  }
  if (!fromImage) post.push("vignette=angle=PI/5");
  if (style.preview.grain > 0) {
    post.push(`noise=c0s=${Math.round(style.preview.grain)}:c0f=t:c0_seed=${seed % 2147483647}`);
  }
  // No fade-out: the last frame stays a picture, which "Continue from the last frame" starts from.
  if (!fromImage) post.push(`fade=t=in:st=0:d=${n(fade)}`);
  if (caption.length > 0) {
    const boxH = caption.length * lineHeight + 2 * pad;
    post.push(`drawbox=x=0:y=ih-${boxH}:w=iw:h=${boxH}:color=black@0.45:t=fill`);
    caption.forEach((line, i) => {
      const y = height - pad - (caption.length - i) * lineHeight + Math.round((lineHeight - fontSize) / 2);
      post.push(
        [
          "drawtext=expansion=none",
          `fontfile=${font}`,
          `text=${escapeFilterValue(line)}`,
          `fontsize=${fontSize}`,
          "fontcolor=white",
          "shadowcolor=black@0.6:shadowx=1:shadowy=1",
          "x=(w-text_w)/2",
          `y=${y}`,
        ].join(":"),
      );
    });
  }
  const labelSize = Math.max(10, Math.round(fontSize * 0.62));
  post.push(
    [
      "drawtext=expansion=none",
      `fontfile=${font}`,
      `text=${escapeFilterValue(PREVIEW_LABEL)}`,
      `fontsize=${labelSize}`,
      "fontcolor=white@0.9",
      "box=1:boxcolor=black@0.5",
      `boxborderw=${Math.round(labelSize * 0.4)}`,
      `x=${pad}`,
      `y=${pad}`,
    ].join(":"),
    "format=yuv420p",
  );

  const graph = [...picture.chains, `[${picture.out}]${post.join(",")}[v]`].join(";");
  const imageInputs = (file: string | null | undefined) =>
    file ? ["-loop", "1", "-framerate", String(fps), "-i", file] : [];
  const args = [
    "-y",
    ...imageInputs(input.images?.first),
    ...imageInputs(input.images?.first ? input.images.last : null),
    "-filter_complex",
    graph,
    "-map",
    "[v]",
    "-an",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "23",
    "-maxrate",
    "2500k",
    "-bufsize",
    "5000k",
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
    "-r",
    String(fps),
    "-g",
    String(fps * 2),
    "-frames:v",
    String(totalFrames),
    "-movflags",
    "+faststart",
    "-metadata",
    "comment=Prompt2Video local preview (not AI)",
    input.outputPath,
  ];
  return { args, seed, width, height, fps, durationSeconds, totalFrames, caption };
}
