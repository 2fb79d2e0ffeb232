import { spawn } from "node:child_process";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRenderPlan, type RenderParams } from "@/lib/engines/local/render-plan";
import { buildSoundPlan } from "@/lib/engines/local/sound-plan";
import { colourDistance, meanColour, twoColourImage, type Rgb } from "@/test/support/frame-colours";
import {
  extractPoster,
  ffmpegPath,
  fontPath,
  parseMediaInfo,
  probeMedia,
  runFfmpeg,
  type FfmpegProgress,
} from "@/lib/media/ffmpeg";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "p2v-render-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function render(
  name: string,
  prompt: string,
  styleId: string,
  params: RenderParams = {},
  onProgress?: (p: FfmpegProgress) => void,
) {
  const out = path.join(dir, `${name}.mp4`);
  const plan = buildRenderPlan({ prompt, styleId, params, outputPath: out, fontFile: fontPath() });
  await runFfmpeg(plan.args, { onProgress });
  return { out, plan };
}

/** Top-level MP4 box types, in file order. */
async function topLevelBoxes(file: string): Promise<string[]> {
  const fh = await open(file, "r");
  try {
    const { size } = await fh.stat();
    const types: string[] = [];
    let pos = 0;
    const head = Buffer.alloc(16);
    while (pos + 8 <= size) {
      await fh.read(head, 0, 16, pos);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString("latin1", 4, 8);
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - pos;
      if (boxSize < 8) throw new Error(`bad box ${type} at ${pos}`);
      types.push(type);
      pos += boxSize;
    }
    return types;
  } finally {
    await fh.close();
  }
}

/** One frame at `seconds`, as 64x36 RGB bytes. */
async function frameAt(file: string, seconds: number): Promise<Buffer> {
  const bin = await ffmpegPath();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [
      "-v",
      "error",
      "-ss",
      String(seconds),
      "-i",
      file,
      "-frames:v",
      "1",
      "-s",
      "64x36",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "pipe:1",
    ]);
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg ${code}`))));
  });
}

const meanAbsDiff = (a: Buffer, b: Buffer) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
};

describe("ffmpeg helpers", () => {
  it("resolves an executable ffmpeg from @ffmpeg-installer/ffmpeg", async () => {
    const bin = await ffmpegPath();
    expect(bin).toMatch(/@ffmpeg-installer/);
    expect(((await stat(bin)).mode & 0o111) !== 0).toBe(true);
  });

  it("parses ffmpeg's stream listing", () => {
    const info = parseMediaInfo(`Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:00:05.02, start: 0.000000, bitrate: 45 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 640x360 [SAR 1:1 DAR 16:9], 41 kb/s, 23.98 fps, 24 tbr, 12288 tbn, 48 tbc (default)
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 69 kb/s (default)`);
    expect(info).toEqual({
      durationSeconds: 5.02,
      video: { codec: "h264", width: 640, height: 360, pixFmt: "yuv420p", fps: 23.98 },
      audio: { codec: "aac" },
    });
  });

  it("rejects with the tail of ffmpeg's error output", async () => {
    await expect(
      runFfmpeg(["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1", "-c:v", "libnope", "-f", "null", "-"]),
    ).rejects.toThrow(/Unknown encoder 'libnope'/);
    await expect(probeMedia(path.join(dir, "missing.mp4"))).rejects.toThrow(/No such file/);
  });

  it("stops ffmpeg when the signal aborts", async () => {
    const controller = new AbortController();
    // Aborted once ffmpeg reports that it is running (at real-time speed, it would take 30 s).
    const run = runFfmpeg(["-re", "-f", "lavfi", "-i", "nullsrc=s=16x16:d=30", "-f", "null", "-"], {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("a real preview render", () => {
  let main: Awaited<ReturnType<typeof render>>;
  const progress: FfmpegProgress[] = [];

  beforeAll(async () => {
    main = await render("default", "A red fox running through fresh snow at dawn", "cinematic", {}, (p) =>
      progress.push(p),
    );
  });

  it("is H.264 yuv420p 640x360, 24 fps, 5 s, without audio", async () => {
    const info = await probeMedia(main.out);
    expect(info.video).toMatchObject({ codec: "h264", pixFmt: "yuv420p", width: 640, height: 360, fps: 24 });
    expect(info.durationSeconds).toBeGreaterThan(4.8);
    expect(info.durationSeconds).toBeLessThan(5.2);
    expect(info.audio).toBeNull();
  });

  it("reports ffmpeg's own progress, ending with progress=end", () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: true, frame: 120 });
    const frames = progress.map((p) => p.frame ?? 0);
    expect([...frames].sort((a, b) => a - b)).toEqual(frames);
  });

  it("is streamable: the moov box comes before mdat (faststart)", async () => {
    const boxes = await topLevelBoxes(main.out);
    expect(boxes).toContain("moov");
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
  });

  it("moves: frames a few seconds apart differ", async () => {
    expect(meanAbsDiff(await frameAt(main.out, 1), await frameAt(main.out, 4))).toBeGreaterThan(2);
  });

  it("looks different for another prompt and for another style", async () => {
    const other = await render("other", "Neon city street in the rain", "cinematic");
    const styled = await render("styled", "A red fox running through fresh snow at dawn", "cyberpunk");
    const ref = await frameAt(main.out, 2);
    expect(meanAbsDiff(ref, await frameAt(other.out, 2))).toBeGreaterThan(8);
    expect(meanAbsDiff(ref, await frameAt(styled.out, 2))).toBeGreaterThan(8);
  });

  it("renders 9:16 as 360x640", async () => {
    const tall = await render("tall", "A waterfall in a jungle", "watercolor", { aspectRatio: "9:16", duration: 4 });
    const info = await probeMedia(tall.out);
    expect(info.video).toMatchObject({ width: 360, height: 640, codec: "h264", pixFmt: "yuv420p" });
    expect(info.durationSeconds).toBeCloseTo(4, 1);
  });

  it("muxes a soundtrack: AAC audio, the same video stream, same length", async () => {
    const before = await probeMedia(main.out);
    const out = path.join(dir, "with-sound.mp4");
    const plan = buildSoundPlan({
      inputPath: main.out,
      outputPath: out,
      styleId: "cinematic",
      seed: 5,
      durationSeconds: before.durationSeconds ?? 5,
    });
    await runFfmpeg(plan.args);
    const after = await probeMedia(out);
    expect(after.audio).toEqual({ codec: "aac" });
    expect(after.video).toEqual(before.video);
    expect(after.durationSeconds).toBeGreaterThan(4.8);
    expect(after.durationSeconds).toBeLessThan(5.2);
    const boxes = await topLevelBoxes(out);
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
  });

  it("extracts a JPEG poster of the same size", async () => {
    const jpg = path.join(dir, "poster.jpg");
    await extractPoster(main.out, jpg);
    const info = await probeMedia(jpg);
    expect(info.video).toMatchObject({ codec: "mjpeg", width: 640, height: 360 });
  });
});

describe("image to video", () => {
  const BLUE: Rgb = [30, 144, 220];
  const ORANGE: Rgb = [220, 90, 30];
  const GREEN: Rgb = [40, 180, 80];
  const PURPLE: Rgb = [150, 60, 190];
  // Left and right thirds of the upper half: clear of the caption box and the "not AI" label.
  const LEFT = { x: 0.05, y: 0.3, w: 0.2, h: 0.2 };
  const RIGHT = { x: 0.75, y: 0.3, w: 0.2, h: 0.2 };

  it("opens on the first frame, and with a last frame ends on it", async () => {
    const first = path.join(dir, "first.png");
    const last = path.join(dir, "last.jpg");
    await twoColourImage(first, BLUE, ORANGE);
    await twoColourImage(last, GREEN, PURPLE);

    const out = path.join(dir, "from-image.mp4");
    const plan = buildRenderPlan({
      prompt: "a slow pan over a painted wall",
      styleId: "cinematic",
      params: { duration: 2 },
      outputPath: out,
      fontFile: fontPath(),
      images: { first },
    });
    await runFfmpeg(plan.args);
    expect(colourDistance(await meanColour(out, 0, LEFT), BLUE)).toBeLessThan(24);
    expect(colourDistance(await meanColour(out, 0, RIGHT), ORANGE)).toBeLessThan(24);

    const both = path.join(dir, "first-to-last.mp4");
    const plan2 = buildRenderPlan({
      prompt: "a slow pan over a painted wall",
      styleId: "cinematic",
      params: { duration: 2 },
      outputPath: both,
      fontFile: fontPath(),
      images: { first, last },
    });
    await runFfmpeg(plan2.args);
    expect(colourDistance(await meanColour(both, 0, LEFT), BLUE)).toBeLessThan(24);
    expect(colourDistance(await meanColour(both, "last", LEFT), GREEN)).toBeLessThan(24);
    expect(colourDistance(await meanColour(both, "last", RIGHT), PURPLE)).toBeLessThan(24);
  });
});
