import { localFrameSize } from "@/lib/models/registry";
import { getStyle, type Style } from "@/lib/styles";

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

// ---------------------------------------------------------------------------------------------
// Seeds

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function normalizePrompt(prompt: string): string {
  return prompt.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** The seed of a render: the explicit one (reduced to 32 bits), or FNV-1a of prompt + style. */
export function deriveSeed(prompt: string, styleId: string, explicit?: number | null): number {
  if (explicit !== null && explicit !== undefined && Number.isFinite(explicit)) {
    return Number(BigInt.asUintN(32, BigInt(Math.trunc(Math.abs(explicit)))));
  }
  return fnv1a32(`${styleId}\u0000${normalizePrompt(prompt).toLowerCase()}`);
}

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Filtergraph escaping

/**
 * Escapes a value for one `key=value` option of a filter inside a filtergraph string: first
 * for the option parser (`\ ' :`), then for the graph parser (`\ ' [ ] , ;`), as the ffmpeg
 * documentation's "Notes on filtergraph escaping" describes. Leading/trailing whitespace is
 * protected too. Use drawtext with `expansion=none` so `%` stays literal.
 */
export function escapeFilterValue(value: string): string {
  const protectEdges = (s: string) =>
    s.replace(/^\s+/, (m) => m.replace(/./g, (c) => `\\${c}`)).replace(/\s+$/, (m) => m.replace(/./g, (c) => `\\${c}`));
  const level1 = protectEdges(value.replace(/[\\':]/g, (c) => `\\${c}`));
  return level1.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

/** Removes what drawtext should never see: control characters, line breaks, bidi overrides. */
export function sanitizeCaption(text: string): string {
  return normalizePrompt(
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, " "),
  );
}

/** Word-wraps `text` to at most `maxLines` lines of `maxChars`, ending with … when cut. */
export function wrapCaption(text: string, maxChars: number, maxLines: number): string[] {
  const clean = sanitizeCaption(text);
  if (!clean) return [];
  const chars = (s: string) => Array.from(s).length;
  const lines: string[] = [];
  let line = "";
  const words = clean.split(" ");
  let truncated = false;
  for (let i = 0; i < words.length; i++) {
    let word = words[i] ?? "";
    while (chars(word) > maxChars) {
      // Break overlong words.
      const room = line ? maxChars - chars(line) - 1 : maxChars;
      if (room < 4) {
        lines.push(line);
        line = "";
        if (lines.length >= maxLines) break;
        continue;
      }
      const head = Array.from(word).slice(0, room).join("");
      lines.push(line ? `${line} ${head}` : head);
      line = "";
      word = Array.from(word).slice(room).join("");
      if (lines.length >= maxLines) break;
    }
    if (lines.length >= maxLines) {
      truncated = true;
      break;
    }
    const candidate = line ? `${line} ${word}` : word;
    if (chars(candidate) <= maxChars) {
      line = candidate;
      continue;
    }
    lines.push(line);
    line = word;
    if (lines.length >= maxLines) {
      truncated = true;
      break;
    }
  }
  if (!truncated && line) lines.push(line);
  if (truncated || lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    let last = (kept[maxLines - 1] ?? "").trimEnd();
    while (chars(last) > maxChars - 1) last = Array.from(last).slice(0, -1).join("");
    last = last.replace(/[\s.,;:!?-]+$/, "");
    kept[maxLines - 1] = `${last}…`;
    return kept;
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Prompt cues: a few words of the prompt steer colour, particles and pace.

type Rgb = [number, number, number];

const TINTS: { words: RegExp; hex: string }[] = [
  { words: /\b(ocean|sea|water|waves?|river|lake|underwater|blue|ice|icy|glacier)\b/, hex: "1f74d9" },
  { words: /\b(sunset|sunrise|fire|flames?|desert|autumn|orange|ember|warm)\b/, hex: "ff7a2e" },
  { words: /\b(forest|jungle|grass|trees?|garden|green|leaf|leaves|meadow)\b/, hex: "2f9e44" },
  { words: /\b(roses?|flowers?|pink|love|cherry|blossoms?|candy)\b/, hex: "ff5fa2" },
  { words: /\b(gold|golden|sun|sunny|sand|yellow|honey|wheat)\b/, hex: "f5c542" },
  { words: /\b(purple|violet|magic|magical|dreams?|lavender|fairy)\b/, hex: "8e5cf7" },
  { words: /\b(red|blood|lava|dragon|volcano)\b/, hex: "d62828" },
  { words: /\b(snow|snowy|winter|clouds?|white|ghost|fog|mist)\b/, hex: "eef3f8" },
  { words: /\b(night|space|stars?|galaxy|moon|dark|cosmic|midnight)\b/, hex: "141c4a" },
];

export type PromptCues = {
  tints: string[];
  particles: "stars" | "fall" | null;
  pace: number;
};

export function promptCues(prompt: string): PromptCues {
  const p = sanitizeCaption(prompt).toLowerCase();
  const hits = TINTS.map((t) => ({ hex: t.hex, at: p.search(t.words) }))
    .filter((t) => t.at >= 0)
    .sort((a, b) => a.at - b.at)
    .slice(0, 2)
    .map((t) => t.hex);
  const particles = /\b(rain|raining|rainy|snow|snowing|snowy|storm|falling|leaves)\b/.test(p)
    ? "fall"
    : /\b(night|space|stars?|starry|galaxy|cosmic|sky|fireflies|sparkl\w*)\b/.test(p)
      ? "stars"
      : null;
  const pace = /\b(fast|racing|race|chase|running|storm|dance|dancing|explosion|speed|rush|chaos)\b/.test(p)
    ? 1.6
    : /\b(calm|slow|gentle|peaceful|quiet|serene|still|sleepy|lazy)\b/.test(p)
      ? 0.6
      : 1;
  return { tints: hits, particles, pace };
}

function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace(/^#/, ""), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t].map((v) => Math.round(v)) as Rgb;
}

function isGray(c: Rgb): boolean {
  return Math.max(...c) - Math.min(...c) < 12;
}

// ---------------------------------------------------------------------------------------------
// The picture

/** Numbers in expressions: short and locale-free. */
function n(v: number): string {
  const r = Math.round(v * 10000) / 10000;
  return Object.is(r, -0) ? "0" : String(r);
}

type Blob = {
  x: number;
  y: number;
  r: number;
  strength: number;
  speed: number;
  phase: number;
  ampX: number;
  ampY: number;
  shape: "circle" | "diamond" | "square" | "ring";
  color: 0 | 1 | 2 | 3;
};

type Composition = {
  angle: number;
  gradientWobble: number;
  gradientSpeed: number;
  blobs: Blob[];
  hueShift: number;
  orbitRadius: number;
  scanSpeed: number;
  scanPhase: number;
  stripeDensity: number;
};

function compose(rand: () => number, pace: number): Composition {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length) % items.length] as T;
  const range = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const count = 3 + Math.floor(rand() * 3);
  const shape = pick(["circle", "circle", "diamond", "square", "ring"] as const);
  const blobs: Blob[] = [];
  for (let i = 0; i < count; i++) {
    blobs.push({
      x: range(0.15, 0.85),
      y: range(0.15, 0.85),
      r: range(0.1, 0.28),
      strength: range(0.55, 0.95),
      speed: range(0.5, 1.3) * pace * (rand() < 0.5 ? -1 : 1),
      phase: range(0, Math.PI * 2),
      ampX: range(0.08, 0.3),
      ampY: range(0.05, 0.22),
      // Mostly the accent, sometimes the other colours, the first shape keeps the chosen form.
      shape: i === 0 || rand() < 0.6 ? shape : pick(["circle", "diamond", "square", "ring"] as const),
      color: pick([2, 2, 3, 1, 0] as const),
    });
  }
  return {
    angle: range(0, Math.PI * 2),
    gradientWobble: range(0.06, 0.18),
    gradientSpeed: range(0.3, 0.9) * pace,
    blobs,
    hueShift: Math.round(range(-18, 18)),
    orbitRadius: range(0.18, 0.34),
    scanSpeed: range(0.25, 0.45) * pace,
    scanPhase: range(0, 1),
    stripeDensity: pick([1, 1.5, 2] as const),
  };
}

/** One `geq` channel expression (0 = r, 1 = g, 2 = b) computing the whole field. */
function channelExpr(
  ch: 0 | 1 | 2,
  c: { w: number; h: number },
  colors: [Rgb, Rgb, Rgb, Rgb],
  comp: Composition,
  motion: Style["preview"]["motion"],
  tempo: number,
  particles: PromptCues["particles"],
): string {
  const s = Math.min(c.w, c.h);
  const col = (i: 0 | 1 | 2 | 3) => n(colors[i][ch]);
  const parts: string[] = [];

  // Background: a slowly swaying linear gradient between the first two palette colours.
  const ca = Math.cos(comp.angle);
  const sa = Math.sin(comp.angle);
  const g = `clip(0.5+(X/${c.w}-0.5)*${n(ca)}+(Y/${c.h}-0.5)*${n(sa)}+${n(comp.gradientWobble)}*sin(T*${n(comp.gradientSpeed)}+${n(comp.angle)}),0,1)`;
  parts.push(`st(0,${col(0)}+(${col(1)}-${col(0)})*${g})`);

  if (motion === "scan") {
    // Scan lines: alternate rows darker (they become soft stripes once scaled up).
    parts.push(`st(0,ld(0)*(0.86+0.14*sin(Y*${n(Math.PI / comp.stripeDensity)})))`);
  }

  const pulseHz = Math.max(0.3, tempo * 0.5);
  comp.blobs.forEach((b, i) => {
    let px: string;
    let py: string;
    let r = n(b.r);
    switch (motion) {
      case "orbit": {
        const rad = comp.orbitRadius * (1 + 0.35 * (i % 3));
        px = `${n(c.w / 2)}+${n(rad * s)}*cos(T*${n(b.speed)}+${n(b.phase)})`;
        py = `${n(c.h / 2)}+${n(rad * s * 0.8)}*sin(T*${n(b.speed)}+${n(b.phase)})`;
        break;
      }
      case "pulse": {
        px = `${n(b.x * c.w)}+${n(0.04 * s)}*sin(T*${n(b.speed)}+${n(b.phase)})`;
        py = `${n(b.y * c.h)}+${n(0.04 * s)}*cos(T*${n(b.speed)}+${n(b.phase)})`;
        r = `${n(b.r)}*(1+0.35*sin(T*${n(2 * Math.PI * pulseHz)}+${n(b.phase)}))`;
        break;
      }
      case "scan":
        px = `${n(b.x * c.w)}+${n(b.ampX * s)}*sin(T*${n(b.speed * 0.6)}+${n(b.phase)})`;
        py = `${n(b.y * c.h)}`;
        break;
      default: // drift
        px = `${n(b.x * c.w)}+${n(b.ampX * s)}*sin(T*${n(b.speed)}+${n(b.phase)})`;
        py = `${n(b.y * c.h)}+${n(b.ampY * s)}*cos(T*${n(b.speed * 0.8)}+${n(b.phase * 1.7)})`;
    }
    parts.push(`st(1,(X-(${px}))/${s})`, `st(2,(Y-(${py}))/${s})`, `st(4,${r})`);
    let d: string;
    switch (b.shape) {
      case "diamond":
        d = "(abs(ld(1))+abs(ld(2)))*0.75";
        break;
      case "square":
        d = "max(abs(ld(1)),abs(ld(2)))";
        break;
      default:
        d = "hypot(ld(1),ld(2))";
    }
    const weight =
      b.shape === "ring"
        ? `${n(b.strength)}*exp(-pow((hypot(ld(1),ld(2))-ld(4))/(0.3*ld(4)),2))`
        : `${n(b.strength)}*exp(-pow(${d}/ld(4),2))`;
    parts.push(`st(3,${weight})`, `st(0,ld(0)+(${col(b.color)}-ld(0))*ld(3))`);
  });

  if (motion === "scan") {
    // A bright band sweeping down the frame.
    const band = `0.55*exp(-pow((Y/${c.h}-(mod(T*${n(comp.scanSpeed)}+${n(comp.scanPhase)},1.4)-0.2))/0.07,2))`;
    parts.push(`st(0,ld(0)+(${col(2)}-ld(0))*${band})`);
  }

  if (particles) {
    // A per-pixel hash; falling particles hash a row that moves down with time.
    const row = particles === "fall" ? `floor(Y-T*${n(c.h * 0.45)})` : "Y";
    const hash = `st(5,sin(X*12.9898+${row}*78.233)*43758.5453);st(5,ld(5)-floor(ld(5)))`;
    const mask =
      particles === "fall"
        ? "gt(ld(5),0.965)*0.55"
        : "gt(ld(5),0.975)*(0.55+0.45*sin(T*3+ld(5)*400))";
    parts.push(hash, `st(0,ld(0)+(235-ld(0))*${mask})`);
  }

  parts.push("clip(ld(0),0,255)");
  return parts.join(";");
}

// ---------------------------------------------------------------------------------------------

function pickOption<T extends string>(value: string | null | undefined, options: readonly T[], name: string): T {
  if (value === null || value === undefined || value === "") return options[0] as T;
  if (!(options as readonly string[]).includes(value)) {
    throw new RenderPlanError(`Unsupported ${name} "${value}" (use ${options.join(", ")})`);
  }
  return value as T;
}

/** Builds the ffmpeg arguments of a preview clip. Throws RenderPlanError on invalid input. */
export function buildRenderPlan(input: RenderPlanInput): RenderPlan {
  const style = (() => {
    try {
      return getStyle(input.styleId);
    } catch {
      throw new RenderPlanError(`Unknown style "${input.styleId}"`);
    }
  })();
  const prompt = sanitizeCaption(input.prompt);
  if (!prompt) throw new RenderPlanError("The prompt is empty");

  const aspectRatio = pickOption(input.params.aspectRatio, ASPECTS, "aspect ratio");
  const resolution = pickOption(input.params.resolution, RESOLUTIONS, "resolution");
  const rawDuration = input.params.duration ?? DEFAULT_DURATION;
  if (!Number.isFinite(rawDuration) || rawDuration < MIN_DURATION || rawDuration > MAX_DURATION) {
    throw new RenderPlanError(`Duration must be between ${MIN_DURATION} and ${MAX_DURATION} seconds`);
  }
  const explicitSeed = input.params.seed;
  if (explicitSeed !== null && explicitSeed !== undefined && (!Number.isInteger(explicitSeed) || explicitSeed < 0)) {
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
    explicitSeed === null || explicitSeed === undefined ? seed : (seed ^ deriveSeed(prompt, style.id)) >>> 0;
  const cues = promptCues(prompt);
  const comp = compose(prng(compositionSeed), cues.pace);

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
  const mid = t2 ? mix(palette[1], tint(t2), 0.35) : t1 ? mix(palette[1], tint(t1), 0.2) : palette[1];
  const colors: [Rgb, Rgb, Rgb, Rgb] = [palette[0], mid, accent, mix(accent, [255, 255, 255], 0.45)];

  // Low-resolution field (¼ size), then scaled up: soft shapes, and fast.
  const field = { w: Math.max(16, Math.round(width / 4)), h: Math.max(16, Math.round(height / 4)) };
  const exprs = ([0, 1, 2] as const).map((ch) =>
    channelExpr(ch, field, colors, comp, style.preview.motion, style.preview.sound.tempo, cues.particles),
  );

  const fontSize = Math.max(12, Math.round(Math.min(width, height) / 16));
  const pad = Math.round(fontSize * 0.75);
  const lineHeight = Math.round(fontSize * 1.35);
  const maxChars = Math.max(10, Math.floor((width - 2 * pad) / (fontSize * 0.6)));
  const caption = wrapCaption(prompt, maxChars, 2);
  const font = escapeFilterValue(input.fontFile);
  const fade = Math.min(0.5, durationSeconds / 6);

  const chain: string[] = [
    `nullsrc=s=${field.w}x${field.h}:r=${fps}:d=${n(durationSeconds)}`,
    `geq=r=${escapeFilterValue(exprs[0] ?? "0")}:g=${escapeFilterValue(exprs[1] ?? "0")}:b=${escapeFilterValue(exprs[2] ?? "0")}`,
  ];
  if (!gray && comp.hueShift !== 0) chain.push(`hue=h=${comp.hueShift}`);
  chain.push(`scale=${width}:${height}:flags=bicubic`, "setsar=1", "format=yuv420p");
  if (style.preview.grain > 0) chain.push(`noise=alls=${Math.round(style.preview.grain)}:allf=t`);
  chain.push("vignette=angle=PI/5");
  chain.push(`fade=t=in:st=0:d=${n(fade)}`, `fade=t=out:st=${n(durationSeconds - fade)}:d=${n(fade)}`);

  if (caption.length > 0) {
    const boxH = caption.length * lineHeight + 2 * pad;
    chain.push(`drawbox=x=0:y=ih-${boxH}:w=iw:h=${boxH}:color=black@0.45:t=fill`);
    caption.forEach((line, i) => {
      const y = height - pad - (caption.length - i) * lineHeight + Math.round((lineHeight - fontSize) / 2);
      chain.push(
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
  chain.push(
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
  );

  const args = [
    "-y",
    "-filter_complex",
    `${chain.join(",")}[v]`,
    "-map",
    "[v]",
    "-an",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "23",
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
