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
export function prng(seed: number): () => number {
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
  return protectEdges(level1.replace(/[\\'[\],;]/g, (c) => `\\${c}`));
}

/** Removes what drawtext should never see: control characters, line breaks, bidi overrides. */
export function sanitizeCaption(text: string): string {
  return normalizePrompt(
    text
      .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, " "),
  );
}

/** Word-wraps `text` to at most `maxLines` lines of `maxChars`, ending with … when cut. */
export function wrapCaption(text: string, maxChars: number, maxLines: number): string[] {
  const clean = sanitizeCaption(text);
  if (!clean) return [];
  const len = (s: string) => Array.from(s).length;
  // Words, with overlong ones cut into pieces that fit a line.
  const tokens: string[] = [];
  for (const word of clean.split(" ")) {
    const chars = Array.from(word);
    for (let i = 0; i < chars.length; i += maxChars) tokens.push(chars.slice(i, i + maxChars).join(""));
  }
  const lines: string[] = [];
  let line = "";
  for (const token of tokens) {
    const candidate = line ? `${line} ${token}` : token;
    if (len(candidate) <= maxChars) {
      line = candidate;
      continue;
    }
    lines.push(line);
    line = token;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = kept[maxLines - 1] ?? "";
  while (len(last) > maxChars - 1) last = Array.from(last).slice(0, -1).join("");
  kept[maxLines - 1] = `${last.replace(/[\s.,;:!?-]+$/, "")}…`;
  return kept;
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
  particles: "stars" | "rain" | "snow" | null;
  pace: number;
};

export function promptCues(prompt: string): PromptCues {
  const p = sanitizeCaption(prompt).toLowerCase();
  const hits = TINTS.map((t) => ({ hex: t.hex, at: p.search(t.words) }))
    .filter((t) => t.at >= 0)
    .sort((a, b) => a.at - b.at)
    .slice(0, 2)
    .map((t) => t.hex);
  const particles = /\b(rain|raining|rainy|storm|stormy|downpour|drizzle)\b/.test(p)
    ? "rain"
    : /\b(snow|snowing|snowy|snowflakes?|blizzard)\b/.test(p)
      ? "snow"
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
// The picture: a still background, soft or crisp shapes moving over it (overlay positions are
// functions of t, so each shape is rendered once), optional particles, then grade and caption.

/** Numbers in expressions: short and locale-free. */
function n(v: number): string {
  const r = Math.round(v * 10000) / 10000;
  return Object.is(r, -0) ? "0" : String(r);
}

const even = (v: number) => Math.max(2, Math.ceil(v / 2) * 2);

type Shape = "glow" | "disc" | "ring" | "square" | "diamond";

type Blob = {
  x: number;
  y: number;
  r: number;
  strength: number;
  speed: number;
  phase: number;
  ampX: number;
  ampY: number;
  shape: Shape;
  color: 0 | 1 | 2 | 3;
  orbit: number;
};

type Composition = {
  angle: number;
  glowX: number;
  glowY: number;
  blobs: Blob[];
  hueShiftDeg: number;
  hueSway: number;
  hueSwaySpeed: number;
  scanSpeed: number;
  scanPhase: number;
  stripes: { period: number; slope: number };
};

function compose(rand: () => number, pace: number, motion: Style["preview"]["motion"]): Composition {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length) % items.length] as T;
  const range = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const count = 3 + Math.floor(rand() * 3);
  const mainShape = pick(["glow", "disc", "ring", "square", "diamond"] as const);
  const blobs: Blob[] = [];
  for (let i = 0; i < count; i++) {
    const shape: Shape = i < 2 ? "glow" : rand() < 0.7 ? mainShape : pick(["glow", "disc", "ring", "square", "diamond"] as const);
    blobs.push({
      x: range(0.15, 0.85),
      y: range(0.18, 0.72),
      r: shape === "glow" ? range(0.2, 0.38) : range(0.07, 0.16),
      strength: shape === "glow" ? range(0.55, 0.9) : range(0.55, 0.85),
      speed: range(0.45, 1.1) * pace * (rand() < 0.5 ? -1 : 1),
      phase: range(0, Math.PI * 2),
      ampX: range(0.1, 0.35),
      ampY: range(0.05, 0.2),
      shape,
      color: i === 0 ? 1 : pick([2, 2, 3, 1] as const),
      orbit: range(0.12, 0.42),
    });
  }
  // Soft glows behind, crisp shapes on top.
  blobs.sort((a, b) => Number(a.shape !== "glow") - Number(b.shape !== "glow"));
  return {
    angle: range(0, Math.PI * 2),
    glowX: range(0.2, 0.8),
    glowY: range(0.2, 0.6),
    blobs,
    hueShiftDeg: Math.round(range(-16, 16)),
    hueSway: range(0.05, 0.14),
    hueSwaySpeed: range(0.4, 1.0) * pace,
    scanSpeed: range(0.22, 0.4) * pace,
    scanPhase: range(0, 1),
    stripes: motion === "scan" && rand() < 0.5 ? { period: 4, slope: 0 } : { period: Math.round(range(22, 40)), slope: range(-0.6, 0.6) },
  };
}

/** Background: a linear gradient between palette[0] and palette[1] with a soft glow (one frame). */
function backgroundExpr(ch: 0 | 1 | 2, w: number, h: number, colors: [Rgb, Rgb, Rgb, Rgb], comp: Composition, striped: boolean): string {
  const s = Math.min(w, h);
  const c0 = colors[0][ch];
  const c1 = colors[1][ch];
  const c3 = colors[3][ch];
  const g = `clip(0.5+(X/${w}-0.5)*${n(Math.cos(comp.angle) * 1.2)}+(Y/${h}-0.5)*${n(Math.sin(comp.angle) * 1.2)},0,1)`;
  const base = `(${c0}+${c1 - c0}*${g})`;
  const glow = `0.3*exp(-pow(hypot(X-${n(comp.glowX * w)},Y-${n(comp.glowY * h)})/${n(0.55 * s)},2))`;
  let v = `(${base}+(${c3}-${base})*${glow})`;
  if (striped) {
    const { period, slope } = comp.stripes;
    v = `${v}*(0.8+0.2*gte(mod(Y+X*${n(slope)}+${period * 100},${period}),${n(period / 2)}))`;
  }
  return `clip(${v},0,255)`;
}

/** Alpha of one shape sprite, centred in a `side`² square; `N` animates pulses. */
function shapeAlpha(b: Blob, side: number, radius: number, pulseFrames: number | null): string {
  const c = n(side / 2);
  const rt = pulseFrames ? `(${n(radius)}*(1+0.28*sin(N*${n((2 * Math.PI) / pulseFrames)}+${n(b.phase)})))` : n(radius);
  const dist = `hypot(X-${c},Y-${c})`;
  const edge = (signed: string) => `clip((${signed})/1.2+0.5,0,1)`;
  const shade = `(0.72+0.28*(1-Y/${side}))`;
  const k = n(255 * b.strength);
  switch (b.shape) {
    case "glow":
      return `${k}*exp(-pow(${dist}/${rt},2))`;
    case "disc":
      return `${k}*${shade}*${edge(`${rt}-${dist}`)}`;
    case "ring":
      return `${k}*${edge(`${rt}*0.16-abs(${dist}-${rt})`)}`;
    case "square":
      return `${k}*${shade}*${edge(`${rt}*0.85-max(abs(X-${c}),abs(Y-${c}))`)}`;
    default:
      return `${k}*${shade}*${edge(`${rt}*1.1-(abs(X-${c})+abs(Y-${c}))*0.7071`)}`;
  }
}

function hash(x: string, y: string): string {
  const s = `sin(${x}*12.9898+${y}*78.233)*43758.5453`;
  return `(${s}-floor(${s}))`;
}

type Picture = { chains: string[]; out: string };

function pictureGraph(opts: {
  width: number;
  height: number;
  fps: number;
  totalFrames: number;
  durationSeconds: number;
  colors: [Rgb, Rgb, Rgb, Rgb];
  comp: Composition;
  motion: Style["preview"]["motion"];
  tempo: number;
  particles: PromptCues["particles"];
}): Picture {
  const { width: W, height: H, fps, totalFrames, colors, comp, motion } = opts;
  const s = Math.min(W, H);
  const chains: string[] = [];
  const still = (size: string, frames: number) =>
    `nullsrc=s=${size}:r=${fps}:d=${Math.ceil((frames + 1) / fps)},trim=end_frame=${frames}`;
  const repeat = (frames: number) =>
    `loop=loop=${Math.ceil(totalFrames / frames)}:size=${frames}:start=0,trim=end_frame=${totalFrames},setpts=N/(${fps}*TB)`;
  const rgb = (c: Rgb) => `r=${c[0]}:g=${c[1]}:b=${c[2]}`;

  const bg = ([0, 1, 2] as const).map((ch) => escapeFilterValue(backgroundExpr(ch, W, H, colors, comp, motion === "scan")));
  chains.push(`${still(`${W}x${H}`, 1)},geq=r=${bg[0]}:g=${bg[1]}:b=${bg[2]},format=yuv420p,${repeat(1)}[bg]`);

  let last = "bg";
  let layer = 0;
  const overlay = (input: string, x: string, y: string) => {
    const out = `l${layer++}`;
    chains.push(`[${last}][${input}]overlay=x=${escapeFilterValue(x)}:y=${escapeFilterValue(y)}:format=yuv420[${out}]`);
    last = out;
  };

  const pulseFrames = motion === "pulse" ? Math.max(12, Math.round(fps / Math.max(0.3, opts.tempo * 0.5))) : null;
  opts.comp.blobs.forEach((b, i) => {
    const radius = b.r * s;
    const reach = b.shape === "glow" ? 2.2 : b.shape === "diamond" ? 1.6 : 1.3;
    const grow = pulseFrames ? 1.3 : 1;
    // Pulsing shapes are animated, so they are drawn at half size and scaled up.
    const scale = pulseFrames ? 0.5 : 1;
    const side = even(2 * reach * radius * grow * scale + 4);
    const frames = pulseFrames ?? 1;
    const alpha = shapeAlpha(b, side, radius * scale, pulseFrames);
    const up = pulseFrames ? `,scale=${side * 2}:${side * 2}:flags=bicubic` : "";
    chains.push(`${still(`${side}x${side}`, frames)},format=rgba,geq=${rgb(colors[b.color])}:a=${escapeFilterValue(alpha)}${up},${repeat(frames)}[s${i}]`);
    let x: string;
    let y: string;
    const sp = n(b.speed);
    const ph = n(b.phase);
    switch (motion) {
      case "orbit": {
        const rad = b.orbit * s;
        x = `${n(W / 2)}+${n(rad)}*cos(t*${sp}+${ph})`;
        y = `${n(H * 0.45)}+${n(rad * 0.75)}*sin(t*${sp}+${ph})`;
        break;
      }
      case "pulse":
        x = `${n(b.x * W)}+${n(0.05 * s)}*sin(t*${sp}+${ph})`;
        y = `${n(b.y * H)}+${n(0.05 * s)}*cos(t*${sp}+${ph})`;
        break;
      case "scan":
        x = `${n(b.x * W)}+${n(b.ampX * s)}*sin(t*${n(b.speed * 0.7)}+${ph})`;
        y = n(b.y * H);
        break;
      default:
        x = `${n(b.x * W)}+${n(b.ampX * s)}*sin(t*${sp}+${ph})`;
        y = `${n(b.y * H)}+${n(b.ampY * s)}*cos(t*${n(b.speed * 0.8)}+${n(b.phase * 1.7)})`;
    }
    overlay(`s${i}`, `${x}-overlay_w/2`, `${y}-overlay_h/2`);
  });

  if (motion === "scan") {
    const band = even(H * 0.16);
    const travel = H + band;
    chains.push(
      `${still(`${W}x${band}`, 1)},format=rgba,geq=${rgb(colors[3])}:a=${escapeFilterValue(`150*exp(-pow((Y-${band / 2})/${n(band / 4)},2))`)},${repeat(1)}[scan]`,
    );
    overlay("scan", "0", `mod(t*${n(comp.scanSpeed * travel)}+${n(comp.scanPhase * travel)},${travel})-${band}`);
  }

  if (opts.particles) {
    // Drawn at half size, scaled up: soft dots. Falling layers are twice the frame height and
    // periodic, so they scroll forever.
    const hw = even(W / 2);
    const hh = even(H / 2);
    const star = "245";
    if (opts.particles === "stars") {
      const drift = 6;
      const lw = even((W + drift * opts.durationSeconds + 8) / 2);
      const a = `220*gt(${hash("X", "Y")},0.992)`;
      chains.push(`${still(`${lw}x${hh}`, 1)},format=rgba,geq=r=${star}:g=${star}:b=255:a=${escapeFilterValue(a)},scale=${lw * 2}:${hh * 2}:flags=bicubic,${repeat(1)}[pt]`);
      overlay("pt", `-t*${drift}`, "0");
    } else {
      const rain = opts.particles === "rain";
      const ym = `mod(Y,${hh})`;
      const a = rain ? `150*gt(${hash("X", `floor(${ym}/6)`)},0.985)` : `210*gt(${hash("X", ym)},0.988)`;
      const speed = rain ? H * 1.4 : H * 0.22;
      chains.push(`${still(`${hw}x${hh * 2}`, 1)},format=rgba,geq=r=${star}:g=${star}:b=255:a=${escapeFilterValue(a)},scale=${hw * 2}:${hh * 4}:flags=bicubic,${repeat(1)}[pt]`);
      overlay("pt", "0", `mod(t*${n(speed)},${hh * 2})-${hh * 2}`);
    }
  }
  return { chains, out: last };
}

// ---------------------------------------------------------------------------------------------
// Image to video

/** A slow zoom (in, or out towards the last frame) with a gentle pan, over the whole clip. */
const IMAGE_ZOOM = 0.12;

/**
 * The picture from one or two images (ffmpeg inputs 0 and 1): each covers the frame, zoompan
 * moves over it (`on` is the output frame number), and with a last frame a blend cross-fades
 * from the first to the last over the clip, so the clip starts on the first image and ends on the last.
 */
function imageGraph(opts: { width: number; height: number; fps: number; totalFrames: number; durationSeconds: number; withLast: boolean; panSign: 1 | -1 }): Picture {
  const { width: W, height: H, fps, totalFrames, durationSeconds, withLast, panSign } = opts;
  const span = Math.max(1, totalFrames - 1);
  // Twice the frame size first, so the zoom's whole-pixel steps do not make the picture shake.
  const cover = (input: number, label: string) =>
    `[${input}:v]scale=${W * 2}:${H * 2}:force_original_aspect_ratio=increase,crop=${W * 2}:${H * 2},setsar=1,format=yuv420p[${label}]`;
  const move = (label: string, out: string, zoomIn: boolean) => {
    const progress = zoomIn ? `on/${span}` : `(1-on/${span})`;
    const zoom = `1+${n(IMAGE_ZOOM)}*${progress}`;
    const x = `(iw-iw/zoom)*(0.5+${n(0.5 * panSign)}*${progress})`;
    const y = "(ih-ih/zoom)/2";
    return `[${label}]zoompan=z='${zoom}':x='${x}':y='${y}':d=1:s=${W}x${H}:fps=${fps}[${out}]`;
  };
  const chains = [cover(0, "i0"), move("i0", withLast ? "m0" : "img", true)];
  if (withLast) {
    // The last frame ends unzoomed and unpanned, exactly the image given.
    chains.push(cover(1, "i1"), move("i1", "m1", false));
    const f = `min(1,T/${n(durationSeconds)})`;
    chains.push(`[m0][m1]blend=all_expr='A*(1-${f})+B*${f}'[img]`);
  }
  return { chains, out: "img" };
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
  if (typeof rawDuration !== "number" || !Number.isFinite(rawDuration) || rawDuration < MIN_DURATION || rawDuration > MAX_DURATION) {
    throw new RenderPlanError(`Duration must be between ${MIN_DURATION} and ${MAX_DURATION} seconds`);
  }
  const explicitSeed = input.params.seed;
  if (explicitSeed !== null && explicitSeed !== undefined && (!Number.isSafeInteger(explicitSeed) || explicitSeed < 0)) {
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
    explicitSeed === null || explicitSeed === undefined ? seed : (Math.imul(seed, 0x9e3779b1) ^ deriveSeed(prompt, style.id)) >>> 0;
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
    ? imageGraph({ width, height, fps, totalFrames, durationSeconds, withLast: Boolean(input.images?.last), panSign: seed % 2 === 0 ? 1 : -1 })
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
  const imageInputs = (file: string | null | undefined) => (file ? ["-loop", "1", "-framerate", String(fps), "-i", file] : []);
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
