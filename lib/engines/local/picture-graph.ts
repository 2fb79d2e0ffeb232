import type { Style } from "@/lib/styles";
import { escapeFilterValue, n } from "@/lib/engines/local/filter-text";
import type { PromptCues, Rgb } from "@/lib/engines/local/prompt-cues";

/**
 * The picture: a still background, soft or crisp shapes moving over it (overlay positions are
 * functions of t, so each shape is rendered once), optional particles. The plan builder grades and captions it.
 */

/** The filtergraph chains that draw the picture, and the label of their last output. */
export type Picture = { chains: string[]; out: string };

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

export type Composition = {
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

export function compose(rand: () => number, pace: number, motion: Style["preview"]["motion"]): Composition {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length) % items.length] as T;
  const range = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const count = 3 + Math.floor(rand() * 3);
  const mainShape = pick(["glow", "disc", "ring", "square", "diamond"] as const);
  const blobs: Blob[] = [];
  for (let i = 0; i < count; i++) {
    const shape: Shape =
      i < 2 ? "glow" : rand() < 0.7 ? mainShape : pick(["glow", "disc", "ring", "square", "diamond"] as const);
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
    stripes:
      motion === "scan" && rand() < 0.5
        ? { period: 4, slope: 0 }
        : { period: Math.round(range(22, 40)), slope: range(-0.6, 0.6) },
  };
}

/** Background: a linear gradient between palette[0] and palette[1] with a soft glow (one frame). */
function backgroundExpr(
  ch: 0 | 1 | 2,
  w: number,
  h: number,
  colors: [Rgb, Rgb, Rgb, Rgb],
  comp: Composition,
  striped: boolean,
): string {
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

export function pictureGraph(opts: {
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

  const bg = ([0, 1, 2] as const).map((ch) =>
    escapeFilterValue(backgroundExpr(ch, W, H, colors, comp, motion === "scan")),
  );
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
    chains.push(
      `${still(`${side}x${side}`, frames)},format=rgba,geq=${rgb(colors[b.color])}:a=${escapeFilterValue(alpha)}${up},${repeat(frames)}[s${i}]`,
    );
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
      chains.push(
        `${still(`${lw}x${hh}`, 1)},format=rgba,geq=r=${star}:g=${star}:b=255:a=${escapeFilterValue(a)},scale=${lw * 2}:${hh * 2}:flags=bicubic,${repeat(1)}[pt]`,
      );
      overlay("pt", `-t*${drift}`, "0");
    } else {
      const rain = opts.particles === "rain";
      const ym = `mod(Y,${hh})`;
      const a = rain ? `150*gt(${hash("X", `floor(${ym}/6)`)},0.985)` : `210*gt(${hash("X", ym)},0.988)`;
      const speed = rain ? H * 1.4 : H * 0.22;
      chains.push(
        `${still(`${hw}x${hh * 2}`, 1)},format=rgba,geq=r=${star}:g=${star}:b=255:a=${escapeFilterValue(a)},scale=${hw * 2}:${hh * 4}:flags=bicubic,${repeat(1)}[pt]`,
      );
      overlay("pt", "0", `mod(t*${n(speed)},${hh * 2})-${hh * 2}`);
    }
  }
  return { chains, out: last };
}
