import "server-only";

import { spawn } from "node:child_process";
import { constants as fsConstants, existsSync } from "node:fs";
import { access, chmod, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { env } from "@/lib/env";

/**
 * The one way this app runs ffmpeg: `FFMPEG_PATH` when the operator names a binary (a system
 * ffmpeg, kept up to date by the OS), else the static binary of `@ffmpeg-installer/ffmpeg`. No
 * ffprobe: progress comes from ffmpeg's own `-progress` output, media facts from the banner
 * ffmpeg prints for `-i file`.
 */

let cachedPath: Promise<string> | null = null;

/** Absolute path of the ffmpeg binary; made executable on first use when npm skipped the chmod. */
export function ffmpegPath(): Promise<string> {
  cachedPath ??= resolveFfmpeg().catch((err: unknown) => {
    cachedPath = null;
    throw err;
  });
  return cachedPath;
}

/** Tests change FFMPEG_PATH between cases; this makes the next ffmpegPath() resolve again. */
export function resetFfmpegPathForTests(): void {
  cachedPath = null;
}

async function resolveFfmpeg(): Promise<string> {
  const configured = env().FFMPEG_PATH;
  if (configured) {
    try {
      await access(configured, fsConstants.X_OK);
    } catch (err) {
      throw new Error(`FFMPEG_PATH ${configured} is not an executable file`, { cause: err });
    }
    return configured;
  }
  let binary: string;
  try {
    const mod = (await import("@ffmpeg-installer/ffmpeg")) as { path?: string; default?: { path?: string } };
    const found = mod.default?.path ?? mod.path;
    if (!found) throw new Error("the package did not report a binary path");
    binary = found;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`ffmpeg is not available (@ffmpeg-installer/ffmpeg: ${detail})`, { cause: err });
  }
  try {
    await access(binary, fsConstants.X_OK);
  } catch {
    try {
      const { mode } = await stat(binary);
      await chmod(binary, mode | 0o111);
      await access(binary, fsConstants.X_OK);
    } catch (err) {
      throw new Error(`ffmpeg at ${binary} is not executable and could not be made executable`, { cause: err });
    }
  }
  return binary;
}

let cachedFont: string | null = null;

/** The DejaVu Sans TTF shipped by the `dejavu-fonts-ttf` package, for drawtext. */
export function fontPath(): string {
  if (cachedFont) return cachedFont;
  const request = "dejavu-fonts-ttf/ttf/DejaVuSans.ttf";
  const bases = [path.join(process.cwd(), "noop.js"), import.meta.url];
  for (const base of bases) {
    try {
      const resolved = createRequire(base).resolve(request);
      if (existsSync(resolved)) return (cachedFont = resolved);
    } catch {
      // try the next base
    }
  }
  throw new Error("Font not found: install the dejavu-fonts-ttf package");
}

export type FfmpegProgress = {
  /** Frames written so far (video outputs), or null when ffmpeg reports none. */
  frame: number | null;
  /** Output timestamp reached, in seconds, or null when not known yet. */
  outTimeSeconds: number | null;
  /** ffmpeg said `progress=end`. */
  done: boolean;
};

export type RunFfmpegOptions = {
  onProgress?: (progress: FfmpegProgress) => void;
  signal?: AbortSignal;
  /** Kill ffmpeg (SIGKILL) after this long; the promise rejects. */
  timeoutMs?: number;
  /** ffmpeg's -loglevel; "error" keeps the stderr tail short and to the point. */
  logLevel?: "error" | "warning" | "info";
};

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FfmpegError";
  }
}

const STDERR_TAIL_LINES = 12;

/** Keeps the last lines of a stream without holding all of it. */
class LineTail {
  private lines: string[] = [];
  private partial = "";
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      if (line.trim() === "") continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  text(): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.slice(-this.max).join("\n");
  }
}

function parseOutTime(fields: Map<string, string>): number | null {
  for (const key of ["out_time_us", "out_time_ms"]) {
    const raw = fields.get(key);
    if (raw !== undefined && /^-?\d+$/.test(raw)) return Math.max(0, Number(raw) / 1e6);
  }
  const hms = fields.get("out_time");
  const m = hms ? /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(hms) : null;
  if (m) return m[1] ? 0 : Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return null;
}

/**
 * Runs ffmpeg with `args` (inputs, filters, outputs; include -y to overwrite). Adds
 * `-hide_banner -nostdin -progress pipe:1 -nostats` and reports progress from ffmpeg's own
 * progress blocks. Rejects with an FfmpegError holding the last stderr lines on failure, or an
 * AbortError when `signal` aborts (ffmpeg is killed with SIGKILL).
 */
export async function runFfmpeg(args: readonly string[], options: RunFfmpegOptions = {}): Promise<{ stderr: string }> {
  const { onProgress, signal, timeoutMs, logLevel = "error" } = options;
  if (signal?.aborted) throw abortError(signal);
  const binary = await ffmpegPath();
  if (signal?.aborted) throw abortError(signal);

  const fullArgs = ["-hide_banner", "-nostdin", "-loglevel", logLevel, "-progress", "pipe:1", "-nostats", ...args];

  return new Promise((resolve, reject) => {
    const child = spawn(/*turbopackIgnore: true*/ binary, fullArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const tail = new LineTail(STDERR_TAIL_LINES);
    let settled = false;
    let killedFor: "abort" | "timeout" | null = null;

    const kill = (why: "abort" | "timeout") => {
      if (killedFor || child.exitCode !== null) return;
      killedFor = why;
      child.kill("SIGKILL");
    };
    const onAbort = () => kill("abort");
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = timeoutMs ? setTimeout(() => kill("timeout"), timeoutMs) : null;
    timer?.unref?.();

    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve({ stderr: tail.text() });
    };

    // Progress: blocks of key=value lines, each ended by progress=continue|end.
    let fields = new Map<string, string>();
    let pending = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const rawLine of lines) {
        const line = rawLine.trim();
        const eq = line.indexOf("=");
        if (eq <= 0) continue;
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1);
        if (key !== "progress") {
          fields.set(key, value);
          continue;
        }
        const frameRaw = fields.get("frame");
        const progress: FfmpegProgress = {
          frame: frameRaw !== undefined && /^\d+$/.test(frameRaw) ? Number(frameRaw) : null,
          outTimeSeconds: parseOutTime(fields),
          done: value === "end",
        };
        fields = new Map();
        if (onProgress) {
          try {
            onProgress(progress);
          } catch {
            // a faulty listener must not break the render
          }
        }
      }
    });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => tail.push(chunk));

    child.on("error", (err) => {
      finish(new FfmpegError(`Could not run ffmpeg: ${err.message}`, null, "", { cause: err }));
    });
    child.on("close", (code, sig) => {
      if (killedFor === "abort") return finish(abortError(signal));
      if (killedFor === "timeout") {
        return finish(
          new FfmpegError(
            `ffmpeg took longer than ${Math.round((timeoutMs ?? 0) / 1000)} s and was stopped`,
            code,
            tail.text(),
          ),
        );
      }
      if (code === 0) return finish(null);
      const stderr = tail.text();
      const how = code !== null ? `exited with code ${code}` : `was killed by ${sig ?? "a signal"}`;
      finish(new FfmpegError(`ffmpeg ${how}${stderr ? `: ${stderr}` : ""}`, code, stderr));
    });
  });
}

function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const err = new Error("ffmpeg was stopped", { cause: reason });
  err.name = "AbortError";
  return err;
}

export type MediaInfo = {
  durationSeconds: number | null;
  video: { codec: string; width: number; height: number; pixFmt: string | null; fps: number | null } | null;
  audio: { codec: string } | null;
};

/** Splits on commas that are not inside parentheses or brackets. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(" || ch === "[") depth++;
    else if ((ch === ")" || ch === "]") && depth > 0) depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Parses the stream listing ffmpeg prints for `-i file` (exported for tests). */
export function parseMediaInfo(stderr: string): MediaInfo {
  const info: MediaInfo = { durationSeconds: null, video: null, audio: null };
  const dur = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  if (dur) info.durationSeconds = Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]);

  for (const line of stderr.split(/\r?\n/)) {
    const m = /^\s*Stream #\d+:\d+.*?:\s*(Video|Audio):\s*(.*)$/.exec(line);
    if (!m) continue;
    const kind = m[1];
    const parts = splitTopLevel(m[2] ?? "");
    const codec = (parts[0] ?? "").split(/\s+/)[0] ?? "";
    if (kind === "Audio" && !info.audio) {
      info.audio = { codec };
    } else if (kind === "Video" && !info.video) {
      let width = 0;
      let height = 0;
      let pixFmt: string | null = null;
      let fps: number | null = null;
      let tbr: number | null = null;
      for (const [i, part] of parts.entries()) {
        if (i === 0) continue;
        const size = /^(\d{1,5})x(\d{1,5})\b/.exec(part);
        if (size && width === 0) {
          width = Number(size[1]);
          height = Number(size[2]);
          continue;
        }
        const f = /^([\d.]+)(k?) fps$/.exec(part);
        if (f) fps = Number(f[1]) * (f[2] ? 1000 : 1);
        const t = /^([\d.]+)(k?) tbr$/.exec(part);
        if (t) tbr = Number(t[1]) * (t[2] ? 1000 : 1);
        if (i === 1 && pixFmt === null) {
          const p = /^([a-z][a-z0-9_]*)(?:\(|$)/.exec(part);
          if (p) pixFmt = p[1] ?? null;
        }
      }
      info.video = { codec, width, height, pixFmt, fps: fps ?? tbr };
    }
  }
  return info;
}

/** Media facts of a file, read from ffmpeg's banner (there is no ffprobe here). */
export async function probeMedia(file: string): Promise<MediaInfo> {
  const binary = await ffmpegPath();
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(/*turbopackIgnore: true*/ binary, ["-hide_banner", "-nostdin", "-i", file], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let out = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => {
      if (out.length < 256 * 1024) out += c;
    });
    child.on("error", (err) => reject(new Error(`Could not run ffmpeg: ${err.message}`, { cause: err })));
    child.on("close", () => resolve(out));
  });
  const info = parseMediaInfo(stderr);
  if (!info.video && !info.audio) {
    const reason = stderr
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !/At least one output file must be specified/.test(l))
      .slice(-2)
      .join(" ");
    throw new Error(`Not a readable media file: ${reason || file}`);
  }
  return info;
}

/** Writes one JPEG frame about 1 s into the video (earlier for very short clips), same size. */
export async function extractPoster(
  videoPath: string,
  jpgPath: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const info = await probeMedia(videoPath);
  const duration = info.durationSeconds ?? 0;
  const at = duration >= 1.5 ? 1 : Math.max(0, duration / 2);
  await runFfmpeg(
    [
      "-y",
      "-ss",
      at.toFixed(3),
      "-i",
      videoPath,
      "-an",
      "-frames:v",
      "1",
      "-q:v",
      "3",
      "-f",
      "image2",
      "-update",
      "1",
      jpgPath,
    ],
    { signal: options.signal, timeoutMs: 30_000 },
  );
  const { size } = await stat(jpgPath).catch(() => ({ size: 0 }));
  if (size === 0) throw new Error("ffmpeg wrote no poster frame");
}

/** Writes the video's last frame as a PNG, same size (for "Continue from the last frame"). */
export async function extractLastFrame(
  videoPath: string,
  pngPath: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  // Decode only the last half second; `-update 1` overwrites one image per frame, so the last one stays.
  await runFfmpeg(
    ["-y", "-sseof", "-0.5", "-i", videoPath, "-an", "-update", "1", "-f", "image2", "-c:v", "png", pngPath],
    {
      signal: options.signal,
      timeoutMs: 30_000,
    },
  );
  const { size } = await stat(pngPath).catch(() => ({ size: 0 }));
  if (size === 0) throw new Error("ffmpeg wrote no last frame");
}
