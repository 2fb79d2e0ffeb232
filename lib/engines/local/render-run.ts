import type { RenderPlan } from "@/lib/engines/local/render-plan";
import type { Prediction } from "@/lib/engines/types";
import { FfmpegError } from "@/lib/media/ffmpeg";

/** One render of the local engine: its prediction as reported, its work, and its delivery state. */

export type LocalStep = "generate" | "sound";

export type LocalPrediction = Prediction & {
  input: Record<string, unknown>;
  metrics: { predict_time?: number } | null;
};

export type Work =
  | { step: "generate"; plan: RenderPlan; frames?: string[] }
  | { step: "sound"; videoPath: string; styleId: string; seed: number | null };

export type Run = {
  prediction: LocalPrediction;
  job: Work;
  webhookUrl: string | null;
  controller: AbortController;
  state: "queued" | "running" | "done";
  startedMs: number;
  /** Deliveries run one after another, in order. */
  chain: Promise<void>;
  lastProgressSentAt: number;
  progressQueued: boolean;
  progressTimer: ReturnType<typeof setTimeout> | null;
  lastLine: string;
  /** Cut off by a stop of this server: it reports nothing and is redone after the restart. */
  interrupted: boolean;
};

export function appendLog(run: Run, line: string): void {
  run.prediction.logs = `${run.prediction.logs ?? ""}${line}\n`;
}

/** Kills renders still running when the process exits. */
const liveControllers = new Set<AbortController>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of liveControllers) c.abort();
  });
}

/** The run's render is live: it is killed if the process exits. */
export function trackLive(run: Run): void {
  liveControllers.add(run.controller);
  installExitHook();
}

export function untrackLive(run: Run): void {
  liveControllers.delete(run.controller);
}

/** ffmpeg ended by a signal: killed outright (no exit code), or its own exit on SIGTERM/SIGINT (255). */
export function killedBySignal(err: unknown): boolean {
  return err instanceof FfmpegError && /^ffmpeg (was killed by|exited with code 255\b)/.test(err.message);
}
