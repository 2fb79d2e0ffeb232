import { escapeFilterValue } from "@/lib/engines/local/filter-text";
import { fnv1a32 } from "@/lib/engines/local/seed";
import { getStyle, type Style } from "@/lib/styles";

/**
 * The local soundtrack: ffmpeg arguments that take an existing MP4 and mux a short generated
 * tune into it (video copied). Pure. The style gives the base pitch, timbre and tempo; the seed
 * picks four notes of a pentatonic scale and the drone's colour.
 */

export type SoundPlanInput = {
  /** The MP4 to add sound to. */
  inputPath: string;
  outputPath: string;
  styleId: string;
  /** Picks the notes; defaults to a hash of the style. */
  seed?: number | null;
  /** Length of the video, in seconds (probe it first). */
  durationSeconds: number;
};

export type SoundPlan = {
  args: string[];
  seed: number;
  /** The melody's notes, in Hz. */
  notes: number[];
  durationSeconds: number;
};

export class SoundPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SoundPlanError";
  }
}

const SAMPLE_RATE = 44100;
/** Major pentatonic degrees, in semitones, over two octaves. */
const SCALE = [0, 2, 4, 7, 9, 12, 14, 16];

function n(v: number): string {
  const r = Math.round(v * 10000) / 10000;
  return Object.is(r, -0) ? "0" : String(r);
}

function oscillator(wave: Style["preview"]["sound"]["wave"], phase: string): string {
  switch (wave) {
    case "square":
      // A softened square: less harsh than sgn(sin).
      return `tanh(3*sin(${phase}))`;
    case "saw": {
      const p = `(${phase})/(2*PI)`;
      return `(2*(${p}-floor(${p}+0.5)))`;
    }
    default:
      return `sin(${phase})`;
  }
}

/** Builds the ffmpeg arguments that add a generated soundtrack to `inputPath`. */
export function buildSoundPlan(input: SoundPlanInput): SoundPlan {
  let style: Style;
  try {
    style = getStyle(input.styleId);
  } catch {
    throw new SoundPlanError(`Unknown style "${input.styleId}"`);
  }
  const duration = input.durationSeconds;
  if (!Number.isFinite(duration) || duration <= 0 || duration > 600) {
    throw new SoundPlanError("The video's duration is unknown or out of range");
  }
  const seed =
    input.seed !== null && input.seed !== undefined && Number.isFinite(input.seed)
      ? Number(BigInt.asUintN(32, BigInt(Math.trunc(Math.abs(input.seed)))))
      : fnv1a32(`sound\u0000${style.id}`);

  // Four notes from the scale, chosen by the seed (xorshift32).
  let x = seed || 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const { baseHz, wave, tempo } = style.preview.sound;
  // Low bases would be inaudible on small speakers: the melody sits an octave up.
  const melodyBase = baseHz < 200 ? baseHz * 2 : baseHz;
  const degrees = [0, 1, 2, 3].map(() => SCALE[Math.floor(next() * SCALE.length)] ?? 0);
  const notes = degrees.map((d) => Math.round(melodyBase * 2 ** (d / 12) * 100) / 100);
  const rate = Math.min(5, Math.max(0.8, tempo * 2));
  const decay = n(2.5 + next() * 2);
  const fifth = next() < 0.5 ? 1.5 : 1.25;

  // Note k plays during [k/rate, (k+1)/rate): a plucked envelope that starts and ends at 0.
  const u = `(t*${n(rate)}-floor(t*${n(rate)}))`;
  const k = `mod(floor(t*${n(rate)}),4)`;
  const f = `if(eq(${k},0),${notes[0]},if(eq(${k},1),${notes[1]},if(eq(${k},2),${notes[2]},${notes[3]})))`;
  const env = `(1-exp(-${u}*80))*exp(-${u}*${decay})*min(1,(1-${u})*20)`;
  const melody = `0.3*${env}*${oscillator(wave, `2*PI*${f}*t`)}`;
  const drone = `(0.16*sin(2*PI*${n(baseHz)}*t)+0.07*sin(2*PI*${n(baseHz * fifth)}*t))*(0.75+0.25*sin(2*PI*0.2*t))`;
  const expr = `${melody}+${drone}`;

  const fadeOut = Math.min(0.8, duration / 4);
  const fadeIn = Math.min(0.4, duration / 8);
  const chain = [
    `aevalsrc=exprs=${escapeFilterValue(expr)}:s=${SAMPLE_RATE}:d=${n(duration)}`,
    `lowpass=f=${wave === "sine" ? 5000 : 2400}`,
    `aecho=in_gain=0.8:out_gain=0.85:delays=${escapeFilterValue("90|210")}:decays=${escapeFilterValue("0.3|0.18")}`,
    `afade=t=in:st=0:d=${n(fadeIn)}`,
    `afade=t=out:st=${n(Math.max(0, duration - fadeOut))}:d=${n(fadeOut)}`,
    "volume=1.5",
    `aformat=sample_fmts=fltp:sample_rates=${SAMPLE_RATE}:channel_layouts=stereo`,
  ];

  const args = [
    "-y",
    "-i",
    input.inputPath,
    "-filter_complex",
    `${chain.join(",")}[a]`,
    "-map",
    "0:v:0",
    "-map",
    "[a]",
    "-c:v",
    "copy",
    "-c:a",
    "aac",
    "-b:a",
    "128k",
    "-shortest",
    "-movflags",
    "+faststart",
    input.outputPath,
  ];
  return { args, seed, notes, durationSeconds: duration };
}
