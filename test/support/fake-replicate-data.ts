import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rename, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import ffmpeg from "@ffmpeg-installer/ffmpeg";
import { ENDED_PREDICTION_STATUSES, type PredictionStatus } from "@/lib/engines/types";

/** What the fake Replicate serves: prediction shape, scenarios, logs, error bodies, the sample video. */

export type Scenario =
  | "success"
  | "no-progress"
  | "fail"
  | "cancel-upstream"
  | "abort"
  | "duplicate-webhooks"
  | "out-of-order"
  | "lose-webhooks"
  | "rate-limit-create"
  | "http-401"
  | "http-402"
  | "http-422"
  | "http-500"
  /** The prediction is created (and its webhooks sent), but the create is answered with a 500. */
  | "http-500-after-create";

export type WebhookEvent = "start" | "output" | "logs" | "completed";
export const ALL_EVENTS: WebhookEvent[] = ["start", "output", "logs", "completed"];

export type FakePrediction = {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  output: unknown;
  logs: string;
  error: string | null;
  status: PredictionStatus;
  source: "api";
  data_removed: boolean;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  urls: { get: string; cancel: string; stream: string; web: string };
  metrics: { predict_time?: number };
  webhook?: string;
  webhook_events_filter?: WebhookEvent[];
};

/** Replicate's ended statuses: the app's one list. */
export const TERMINAL = new Set<string>(ENDED_PREDICTION_STATUSES);
export const LLM_TOKENS = ["A ", "slow ", "dolly ", "shot ", "of ", "a ", "lighthouse ", "at ", "dusk."];

let sampleVideo: Promise<string> | null = null;

/** A tiny real MP4, generated once per machine (kept in the temp dir between runs). */
export function sampleVideoPath(): Promise<string> {
  sampleVideo ??= (async () => {
    const file = path.join(os.tmpdir(), "prompt2video-fake-replicate-v1.mp4");
    if ((await stat(file).catch(() => null))?.size) return file;
    const tmp = `${file}.${process.pid}.${Date.now()}.mp4`;
    const args = ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=24", "-t", "2"];
    args.push("-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", tmp);
    await promisify(execFile)(ffmpeg.path, args);
    await rename(tmp, file);
    return file;
  })();
  return sampleVideo;
}

export const base32 = (bytes: number) =>
  Array.from(randomBytes(bytes), (b) => "abcdefghijklmnopqrstuvwxyz234567"[b % 32]).join("");

export function tqdm(step: number, total: number, elapsed: number): string {
  const pct = Math.round((step / total) * 100);
  const fill = (pct / 100) * 10;
  const bar = ("█".repeat(Math.floor(fill)) + (fill % 1 >= 0.5 ? "▌" : "")).padEnd(10, " ");
  const rate = step / Math.max(elapsed, 0.01);
  const eta = Math.round((total - step) / Math.max(rate, 0.01));
  const t = (s: number) => `00:${String(Math.min(59, Math.round(s))).padStart(2, "0")}`;
  return `${String(pct).padStart(3)}%|${bar}| ${step}/${total} [${t(elapsed)}<${t(eta)}, ${rate.toFixed(1)}it/s]`;
}

export const ERRORS: Record<string, { status: number; body: Record<string, unknown> }> = {
  "http-401": { status: 401, body: { detail: "Invalid token." } },
  "http-402": {
    status: 402,
    body: { title: "Insufficient credit", status: 402, detail: "You have insufficient credit to run this model." },
  },
  "http-422": {
    status: 422,
    body: {
      title: "Input validation failed",
      status: 422,
      detail: "- input.prompt: Invalid type. Expected: string, given: integer",
      invalid_fields: [{ type: "type", field: "input.prompt", description: "Invalid type. Expected: string" }],
    },
  },
  "http-500": { status: 500, body: { detail: "Internal server error" } },
};
