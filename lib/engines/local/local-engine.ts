import "server-only";

import { randomBytes } from "node:crypto";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";

import { buildSoundPlan } from "@/lib/engines/local/sound-plan";
import { localOutput, RENDERS_DIR } from "@/lib/engines/local/local-output";
import { readSidecar, writeSidecar } from "@/lib/engines/local/render-files";
import { prepareGenerate, prepareSound } from "@/lib/engines/local/render-work";
import { RenderQueue } from "@/lib/engines/local/render-queue";
import {
  appendLog,
  killedBySignal,
  trackLive,
  untrackLive,
  type LocalPrediction,
  type LocalStep,
  type Run,
} from "@/lib/engines/local/render-run";
import { tqdmLine } from "@/lib/engines/local/tqdm";
import { WebhookDelivery } from "@/lib/engines/local/webhook-delivery";
import { EngineError, type Engine, type StartRequest } from "@/lib/engines/types";
import { LOCAL_MODEL_ID } from "@/lib/models/registry";
import { probeMedia, runFfmpeg, type FfmpegProgress } from "@/lib/media/ffmpeg";

/**
 * The local preview engine: renders with ffmpeg on this server and reports like Replicate does,
 * so the app has one path for both. `start` answers at once with a prediction id; the render
 * runs in the background and POSTs Replicate-shaped predictions to the webhook URL, signed with
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) — a `start`
 * event, progress events with tqdm-style log lines (at most every 500 ms), and a `completed`
 * event (retried with backoff). Files go to `<dataDir>/renders/<id>.mp4`; the output is the
 * string `local:renders/<id>.mp4` (local-output.ts), which `resolveLocalOutput` (render-files.ts) turns back into a path.
 */

export type LocalEngineOptions = {
  /** The app's data directory; renders go to `<dataDir>/renders`. */
  dataDir: string;
  /** Standard Webhooks secret (`whsec_…`) used to sign deliveries. */
  secret: string;
  fetch?: typeof fetch;
  /** Renders running at once; more wait in "starting" (default 2). */
  maxConcurrent?: number;
  /** Delays before each retry of the completed event (default 1 s, 4 s, 15 s, 45 s). */
  retryDelaysMs?: number[];
  /** Minimum gap between progress deliveries (default 500 ms). */
  progressIntervalMs?: number;
  /** A render taking longer is killed and fails (default 120 s). */
  renderTimeoutMs?: number;
  /** How long finished predictions stay in memory (default 1 h). */
  keepMs?: number;
  /** Timeout of one webhook request (default 10 s). */
  deliveryTimeoutMs?: number;
  /** Test hook: rewrites the ffmpeg arguments before they run (to slow down or break a render). */
  transformArgs?: (args: string[], step: LocalStep) => string[];
};

const DEFAULT_FPS = 24;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class LocalEngine implements Engine {
  readonly id = "local" as const;

  private readonly dataDir: string;
  private readonly rendersDir: string;
  private readonly webhooks: WebhookDelivery;
  private readonly renderTimeoutMs: number;
  private readonly keepMs: number;
  private readonly transformArgs?: (args: string[], step: LocalStep) => string[];

  private readonly runs = new Map<string, Run>();
  private readonly queue: RenderQueue;
  private stopping = false;

  constructor(options: LocalEngineOptions) {
    if (!options.secret || !options.secret.startsWith("whsec_")) {
      throw new Error("LocalEngine needs a webhook secret starting with whsec_");
    }
    this.dataDir = path.resolve(options.dataDir);
    this.rendersDir = path.join(this.dataDir, RENDERS_DIR);
    this.webhooks = new WebhookDelivery({
      secret: options.secret,
      fetch: options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
      retryDelaysMs: options.retryDelaysMs ?? [1_000, 4_000, 15_000, 45_000],
      progressIntervalMs: options.progressIntervalMs ?? 500,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    });
    this.queue = new RenderQueue(Math.max(1, options.maxConcurrent ?? 2), (run) => this.execute(run));
    this.renderTimeoutMs = options.renderTimeoutMs ?? 120_000;
    this.keepMs = options.keepMs ?? 60 * 60 * 1000;
    this.transformArgs = options.transformArgs;
  }

  // -------------------------------------------------------------------------------------------
  // Engine

  async start(req: StartRequest): Promise<{ ref: string }> {
    const { job, step, input } = req;
    if (this.stopping)
      throw new EngineError("The server is stopping; the render starts again after the restart.", "unavailable");
    if (step !== "generate" && step !== "sound") {
      throw new EngineError(`The local engine does not run the "${step}" step`, "invalid_input");
    }
    if (!job) throw new EngineError("The local engine renders steps of a job", "invalid_input");
    const id = `lp_${randomBytes(15).toString("base64url")}`;
    const partPath = path.join(this.rendersDir, `${id}.part.mp4`);

    const { work, predictionInput } =
      step === "generate"
        ? await prepareGenerate(this.rendersDir, id, partPath, job, input)
        : await prepareSound(this.dataDir, partPath, job, input);

    await mkdir(this.rendersDir, { recursive: true });

    const run: Run = {
      prediction: {
        id,
        model: LOCAL_MODEL_ID,
        version: "ffmpeg",
        status: "starting",
        input: predictionInput,
        logs: "",
        output: null,
        error: null,
        created_at: new Date().toISOString(),
        started_at: null,
        completed_at: null,
        metrics: null,
      },
      job: work,
      webhookUrl: req.webhookUrl,
      controller: new AbortController(),
      state: "queued",
      startedMs: 0,
      chain: Promise.resolve(),
      lastProgressSentAt: 0,
      progressQueued: false,
      progressTimer: null,
      lastLine: "",
      interrupted: false,
    };
    this.runs.set(id, run);
    this.queue.add(run);
    return { ref: id };
  }

  async cancel(ref: string): Promise<void> {
    const run = this.runs.get(ref);
    if (!run || run.state === "done") return;
    if (run.state === "queued") {
      this.queue.remove(run);
      await this.finish(run, { status: "canceled" });
      return;
    }
    run.controller.abort();
  }

  async get(ref: string): Promise<LocalPrediction | null> {
    const run = this.runs.get(ref);
    if (run) return structuredClone(run.prediction);
    // After a restart: a finished render left a sidecar next to its file.
    return readSidecar(this.dataDir, this.rendersDir, ref);
  }

  /**
   * The server is stopping: renders still queued or running are cut off and report nothing (no
   * "failed", no sidecar), so after the restart `get` does not know them and reconciliation
   * starts the step again, within its attempt limit.
   */
  interruptAll(): void {
    this.stopping = true;
    for (const run of this.runs.values()) {
      if (run.state === "done") continue;
      run.interrupted = true;
      if (run.state === "queued") {
        this.queue.remove(run);
        this.forgetInterrupted(run);
      } else {
        run.controller.abort();
      }
    }
  }

  private forgetInterrupted(run: Run): void {
    run.state = "done";
    untrackLive(run);
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.progressTimer = null;
    this.runs.delete(run.prediction.id);
  }

  // -------------------------------------------------------------------------------------------
  // Running

  private async execute(run: Run): Promise<void> {
    if (run.state !== "queued") return;
    run.state = "running";
    run.startedMs = Date.now();
    trackLive(run);
    const p = run.prediction;
    p.status = "processing";
    p.started_at = new Date(run.startedMs).toISOString();
    appendLog(run, "Local preview renderer (ffmpeg) - not an AI model");
    this.webhooks.send(run, false);

    const { id } = p;
    const partPath = path.join(this.rendersDir, `${id}.part.mp4`);
    const finalPath = path.join(this.rendersDir, `${id}.mp4`);
    try {
      let args: string[];
      let total: number;
      let fps: number;
      let label: string;
      if (run.job.step === "generate") {
        const { plan } = run.job;
        appendLog(run, `seed: ${plan.seed}`);
        appendLog(run, `size: ${plan.width}x${plan.height}, ${plan.durationSeconds} s at ${plan.fps} fps`);
        args = plan.args;
        total = plan.totalFrames;
        fps = plan.fps;
        label = "Rendering";
      } else {
        const info = await probeMedia(run.job.videoPath);
        if (!info.video || !info.durationSeconds) throw new Error("The video to add sound to has no video stream");
        const plan = buildSoundPlan({
          inputPath: run.job.videoPath,
          outputPath: partPath,
          styleId: run.job.styleId,
          seed: run.job.seed,
          durationSeconds: info.durationSeconds,
        });
        appendLog(run, `soundtrack: ${plan.notes.map((f) => `${f} Hz`).join(", ")}, ${plan.durationSeconds} s`);
        fps = info.video.fps ?? DEFAULT_FPS;
        total = Math.max(1, Math.round(info.durationSeconds * fps));
        args = plan.args;
        label = "Adding sound";
      }
      appendLog(run, `${label}: ${total} frames`);
      if (this.transformArgs) args = this.transformArgs([...args], run.job.step);
      if (run.controller.signal.aborted) throw Object.assign(new Error("canceled"), { name: "AbortError" });

      const onProgress = (pr: FfmpegProgress) => {
        const current = pr.done
          ? total
          : Math.min(total, pr.frame ?? (pr.outTimeSeconds !== null ? Math.round(pr.outTimeSeconds * fps) : 0));
        const line = tqdmLine(current, total, (Date.now() - run.startedMs) / 1000);
        const key = line.slice(0, line.indexOf("["));
        if (key === run.lastLine) return;
        run.lastLine = key;
        appendLog(run, line);
        if (!pr.done) this.webhooks.scheduleProgress(run);
      };
      await runFfmpeg(args, { signal: run.controller.signal, timeoutMs: this.renderTimeoutMs, onProgress });

      const written = await stat(partPath).catch(() => null);
      if (!written || written.size === 0) throw new Error("ffmpeg wrote no video");
      await rename(partPath, finalPath);
      const seconds = (Date.now() - run.startedMs) / 1000;
      if (!run.lastLine.includes("100%")) appendLog(run, tqdmLine(total, total, seconds));
      appendLog(run, `Done in ${seconds.toFixed(1)} s`);
      await this.finish(run, { status: "succeeded", output: localOutput(id) });
    } catch (err) {
      await unlink(partPath).catch(() => undefined);
      // Stopped by a signal that was not ours (a stop that reached ffmpeg first, the OOM killer):
      // cut off, not failed, like a render this server interrupted itself.
      if (run.interrupted || (!run.controller.signal.aborted && killedBySignal(err))) {
        appendLog(run, "Interrupted: the render starts again");
        this.forgetInterrupted(run);
        return;
      }
      if (run.controller.signal.aborted) {
        appendLog(run, "Canceled");
        await this.finish(run, { status: "canceled" });
      } else {
        const why = message(err).slice(0, 2000);
        appendLog(run, `Error: ${why}`);
        await this.finish(run, { status: "failed", error: `Local render failed: ${why}` });
      }
    }
  }

  private async finish(
    run: Run,
    result: { status: "succeeded"; output: string } | { status: "failed"; error: string } | { status: "canceled" },
  ): Promise<void> {
    if (run.state === "done") return;
    run.state = "done";
    untrackLive(run);
    // The frame images were only for this render (the job keeps its own copies).
    if (run.job.step === "generate" && run.job.frames)
      for (const f of run.job.frames) await unlink(f).catch(() => undefined);
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.progressTimer = null;
    const p = run.prediction;
    p.status = result.status;
    p.output = result.status === "succeeded" ? result.output : null;
    p.error = result.status === "failed" ? result.error : null;
    p.completed_at = new Date().toISOString();
    if (run.startedMs) p.metrics = { predict_time: Math.round(Date.now() - run.startedMs) / 1000 };

    await writeSidecar(this.rendersDir, p);
    const evict = setTimeout(() => this.runs.delete(p.id), this.keepMs);
    evict.unref?.();
    this.webhooks.send(run, true);
  }
}
