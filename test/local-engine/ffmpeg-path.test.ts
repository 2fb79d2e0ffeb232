import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseEnv, resetEnvCache } from "@/lib/env";
import { ffmpegPath, probeMedia, resetFfmpegPathForTests, runFfmpeg } from "@/lib/media/ffmpeg";

/**
 * FFMPEG_PATH: an operator can run the app on the system's ffmpeg instead of the bundled build.
 * A wrapper script stands in for "the system's" binary, so the test shows that the app really runs
 * the named file (it logs each call), whatever ffmpeg the wrapper hands over to.
 */

let dir: string;
let bundled: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "p2v-ffmpeg-path-"));
  delete process.env.FFMPEG_PATH;
  resetEnvCache();
  resetFfmpegPathForTests();
  bundled = await ffmpegPath();
  return () => rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env.FFMPEG_PATH;
  resetEnvCache();
  resetFfmpegPathForTests();
});

function useFfmpeg(file: string) {
  process.env.FFMPEG_PATH = file;
  resetEnvCache();
  resetFfmpegPathForTests();
}

describe("FFMPEG_PATH", () => {
  it("runs the named binary for renders and probes", async () => {
    const calls = path.join(dir, "calls.log");
    const wrapper = path.join(dir, "ffmpeg");
    await writeFile(wrapper, `#!/bin/sh\necho call >> '${calls}'\nexec '${bundled}' "$@"\n`);
    await chmod(wrapper, 0o755);
    useFfmpeg(wrapper);

    expect(await ffmpegPath()).toBe(wrapper);
    const out = path.join(dir, "clip.mp4");
    await runFfmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x36:d=1", "-pix_fmt", "yuv420p", "-y", out]);
    const info = await probeMedia(out);
    expect(info.durationSeconds).toBeGreaterThan(0.5);
    expect((await readFile(calls, "utf8")).trim().split("\n").length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a path that is not an executable file, naming the variable", async () => {
    const notExecutable = path.join(dir, "not-ffmpeg");
    await writeFile(notExecutable, "plain text");
    useFfmpeg(notExecutable);
    await expect(ffmpegPath()).rejects.toThrow(/FFMPEG_PATH .*not-ffmpeg is not an executable file/);
  });

  it("refuses a relative path at start, naming the variable", () => {
    expect(() => parseEnv({ FFMPEG_PATH: "ffmpeg" })).toThrow(/FFMPEG_PATH must be an absolute path/);
  });

  it.runIf(existsSync("/usr/bin/ffmpeg"))("works with Debian's ffmpeg", async () => {
    useFfmpeg("/usr/bin/ffmpeg");
    const out = path.join(dir, "debian.mp4");
    await runFfmpeg(["-f", "lavfi", "-i", "color=c=blue:s=64x36:d=1", "-pix_fmt", "yuv420p", "-y", out]);
    expect((await probeMedia(out)).durationSeconds).toBeGreaterThan(0.5);
  });
});
