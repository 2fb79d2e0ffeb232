import { spawn } from "node:child_process";
import { createRequire } from "node:module";

/**
 * Images made with ffmpeg and colours read back from a video's frames, to check that a clip
 * shows a given image (the bundled ffmpeg, so it works wherever the app's renders do).
 */

export type Rgb = [number, number, number];

const ffmpeg = (): string => (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path;

function run(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg(), ["-hide_banner", "-loglevel", "error", ...args]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg ${code}: ${Buffer.concat(err).toString()}`)),
    );
  });
}

const hex = ([r, g, b]: Rgb) => `0x${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;

/** A PNG (or JPEG/WebP by the file's extension) whose left half is `left` and right half `right`. */
export async function twoColourImage(
  file: string,
  left: Rgb,
  right: Rgb,
  size = { width: 640, height: 360 },
): Promise<void> {
  const half = `${size.width / 2}x${size.height}`;
  await run([
    "-y",
    "-f",
    "lavfi",
    "-i",
    `color=c=${hex(left)}:s=${half}`,
    "-f",
    "lavfi",
    "-i",
    `color=c=${hex(right)}:s=${half}`,
    "-filter_complex",
    "[0:v][1:v]hstack=inputs=2,format=rgb24[v]",
    "-map",
    "[v]",
    "-frames:v",
    "1",
    file,
  ]);
}

/**
 * The mean colour of a region of one frame of a video: `frame` counts from 0, or "last";
 * the region is given in fractions of the frame ({ x, y, w, h }).
 */
export async function meanColour(
  video: string,
  frame: number | "last",
  region: { x: number; y: number; w: number; h: number },
): Promise<Rgb> {
  const pick = frame === "last" ? ["-sseof", "-0.2"] : [];
  const select = frame === "last" ? "reverse," : `select=eq(n\\,${frame}),`;
  const crop = `crop=iw*${region.w}:ih*${region.h}:iw*${region.x}:ih*${region.y}`;
  const raw = await run([
    ...pick,
    "-i",
    video,
    "-vf",
    `${select}${crop},scale=1:1:flags=area,format=rgb24`,
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-",
  ]);
  return [raw[0] ?? 0, raw[1] ?? 0, raw[2] ?? 0];
}

/** The largest difference of one channel between two colours. */
export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.max(...a.map((c, i) => Math.abs(c - (b[i] ?? 0))));
}
