import "server-only";

import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

import { buildRenderPlan, RenderPlanError, type RenderPlan } from "@/lib/engines/local/render-plan";
import { buildSoundPlan, SoundPlanError } from "@/lib/engines/local/sound-plan";
import { isLocalOutput, localOutput, LOCAL_OUTPUT_PREFIX, RENDERS_DIR } from "@/lib/engines/local/local-output";
import { EngineError, predictionEnded, type Engine, type Prediction, type StartRequest } from "@/lib/engines/types";
import { IMAGE_EXTENSIONS, SNIFF_BYTES, sniffImageType } from "@/lib/core/frame-image";
import { LOCAL_MODEL_ID } from "@/lib/models/registry";
import { FfmpegError, fontPath, probeMedia, runFfmpeg, type FfmpegProgress } from "@/lib/media/ffmpeg";
import { newWebhookId, webhookSigner, type WebhookSigner } from "@/lib/webhooks/sign";

/**
 * The local preview engine: renders with ffmpeg on this server and reports like Replicate does,
 * so the app has one path for both. `start` answers at once with a prediction id; the render
 * runs in the background and POSTs Replicate-shaped predictions to the webhook URL, signed with
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) — a `start`
 * event, progress events with tqdm-style log lines (at most every 500 ms), and a `completed`
 * event (retried with backoff). Files go to `<dataDir>/renders/<id>.mp4`; the output is the
 * string `local:renders/<id>.mp4` (local-output.ts), which `resolveLocalOutput` turns back into a path.
 */

export type LocalStep = "generate" | "sound";

export type LocalPrediction = Prediction & {
  input: Record<string, unknown>;
  metrics: { predict_time?: number } | null;
};

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

export const LOCAL_REF_PATTERN = /^lp_[A-Za-z0-9_-]{20}$/;
const DEFAULT_FPS = 24;

/**
 * The absolute path a `local:` output names (e.g. `local:renders/lp_….mp4`), or null when the
 * reference is malformed or would leave `<dataDir>/renders` (traversal, absolute paths).
 */
export function resolveLocalOutput(dataDir: string, ref: string): string | null {
  if (!isLocalOutput(ref)) return null;
  const rel = ref.slice(LOCAL_OUTPUT_PREFIX.length);
  if (!rel || rel.includes("\0") || rel.includes("\\") || path.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) return null;
  const root = path.resolve(dataDir, RENDERS_DIR);
  const abs = path.resolve(dataDir, rel);
  return abs.startsWith(root + path.sep) ? abs : null;
}

const PARTIALS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * A tqdm-style progress line, e.g. ` 45%|████▌     | 54/120 [00:01<00:01, 45.00it/s]`. No
 * description prefix: replicate's `parseProgressFromLogs` only reads lines that start with the
 * percentage.
 */
export function tqdmLine(current: number, total: number, elapsedSeconds: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, current / total)) : 0;
  const width = 10;
  const eighths = Math.floor(frac * width * 8);
  const full = Math.floor(eighths / 8);
  const bar = ("█".repeat(full) + (full < width ? (PARTIALS[eighths % 8] ?? "") : "")).padEnd(width, " ");
  const rate = elapsedSeconds > 0 ? current / elapsedSeconds : 0;
  const remaining = rate > 0 ? (total - current) / rate : 0;
  return `${String(Math.floor(frac * 100)).padStart(3, " ")}%|${bar}| ${current}/${total} [${clock(elapsedSeconds)}<${clock(remaining)}, ${rate.toFixed(2)}it/s]`;
}

type Work =
  | { step: "generate"; plan: RenderPlan; frames?: string[] }
  | { step: "sound"; videoPath: string; styleId: string; seed: number | null };

type Run = {
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

function str(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}
function num(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ffmpeg ended by a signal: killed outright (no exit code), or its own exit on SIGTERM/SIGINT (255). */
function killedBySignal(err: unknown): boolean {
  return err instanceof FfmpegError && /^ffmpeg (was killed by|exited with code 255\b)/.test(err.message);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LocalEngine implements Engine {
  readonly id = "local" as const;

  private readonly dataDir: string;
  private readonly rendersDir: string;
  private readonly sign: WebhookSigner;
  private readonly fetchImpl: typeof fetch;
  private readonly maxConcurrent: number;
  private readonly retryDelaysMs: number[];
  private readonly progressIntervalMs: number;
  private readonly renderTimeoutMs: number;
  private readonly keepMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly transformArgs?: (args: string[], step: LocalStep) => string[];

  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private active = 0;
  private stopping = false;

  constructor(options: LocalEngineOptions) {
    if (!options.secret || !options.secret.startsWith("whsec_")) {
      throw new Error("LocalEngine needs a webhook secret starting with whsec_");
    }
    this.dataDir = path.resolve(options.dataDir);
    this.rendersDir = path.join(this.dataDir, RENDERS_DIR);
    this.sign = webhookSigner(options.secret);
    this.fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 2);
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 4_000, 15_000, 45_000];
    this.progressIntervalMs = options.progressIntervalMs ?? 500;
    this.renderTimeoutMs = options.renderTimeoutMs ?? 120_000;
    this.keepMs = options.keepMs ?? 60 * 60 * 1000;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 10_000;
    this.transformArgs = options.transformArgs;
  }

  // -------------------------------------------------------------------------------------------
  // Engine

  async start(req: StartRequest): Promise<{ ref: string }> {
    const { job, step, input } = req;
    if (this.stopping) throw new EngineError("The server is stopping; the render starts again after the restart.", "unavailable");
    if (step !== "generate" && step !== "sound") {
      throw new EngineError(`The local engine does not run the "${step}" step`, "invalid_input");
    }
    if (!job) throw new EngineError("The local engine renders steps of a job", "invalid_input");
    const id = `lp_${randomBytes(15).toString("base64url")}`;
    const partPath = path.join(this.rendersDir, `${id}.part.mp4`);

    let work: Work;
    let predictionInput: Record<string, unknown>;
    if (step === "generate") {
      const prompt = str(input.prompt) ?? job.finalPrompt ?? job.prompt;
      const styleId = str(input.style) ?? job.style;
      const params = {
        duration: num(input.duration) ?? job.params.duration,
        aspectRatio: str(input.aspect_ratio) ?? job.params.aspectRatio,
        resolution: str(input.resolution) ?? job.params.resolution,
        seed: num(input.seed) ?? job.params.seed,
      };
      let font: string;
      try {
        font = fontPath();
      } catch (err) {
        throw new EngineError("The preview renderer's font is missing", "unavailable", { cause: err });
      }
      // Frame images arrive as files (as the Replicate client would upload them): kept beside the render.
      const images = await this.writeFrames(id, input);
      let plan: RenderPlan;
      try {
        plan = buildRenderPlan({ prompt, styleId, params, outputPath: partPath, fontFile: font, images: images.paths });
      } catch (err) {
        if (err instanceof RenderPlanError) throw new EngineError(err.message, "invalid_input", { cause: err });
        throw err;
      }
      work = { step, plan, frames: images.paths ? [images.paths.first, ...(images.paths.last ? [images.paths.last] : [])] : undefined };
      predictionInput = {
        prompt,
        style: styleId,
        duration: plan.durationSeconds,
        aspect_ratio: params.aspectRatio ?? "16:9",
        resolution: params.resolution ?? "360p",
        seed: plan.seed,
        ...images.described,
      };
    } else {
      const video = str(input.video);
      if (!video) throw new EngineError("The sound step needs a video", "invalid_input");
      let videoPath: string;
      if (isLocalOutput(video)) {
        const resolved = resolveLocalOutput(this.dataDir, video);
        if (!resolved) throw new EngineError("The video reference points outside the renders directory", "invalid_input");
        videoPath = resolved;
      } else if (path.isAbsolute(video)) {
        videoPath = video;
      } else {
        throw new EngineError("The local engine adds sound to local files only", "invalid_input");
      }
      const exists = await stat(/*turbopackIgnore: true*/ videoPath).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!exists) throw new EngineError("The video to add sound to is missing", "invalid_input");
      const styleId = str(input.style) ?? job.style;
      try {
        // Validate the style now; the plan itself needs the probed duration.
        buildSoundPlan({ inputPath: videoPath, outputPath: partPath, styleId, durationSeconds: 1 });
      } catch (err) {
        if (err instanceof SoundPlanError) throw new EngineError(err.message, "invalid_input", { cause: err });
        throw err;
      }
      work = { step, videoPath, styleId, seed: num(input.seed) ?? job.params.seed };
      predictionInput = { video, style: styleId, seed: work.seed };
    }

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
    this.queue.push(run);
    // Begin after the caller has the reference.
    setImmediate(() => this.pump());
    return { ref: id };
  }

  /** Writes the `image` / `last_image` files of an input under the renders directory. */
  private async writeFrames(
    id: string,
    input: Record<string, unknown>,
  ): Promise<{ paths?: { first: string; last: string | null }; described: Record<string, string> }> {
    const file = async (field: string, name: string): Promise<string | null> => {
      const value = input[field];
      if (!(value instanceof Blob)) return null;
      const bytes = new Uint8Array(await value.arrayBuffer());
      const type = sniffImageType(bytes.subarray(0, SNIFF_BYTES));
      if (!type) throw new EngineError(`The ${field} input is not a PNG, JPEG or WebP image`, "invalid_input");
      await mkdir(this.rendersDir, { recursive: true });
      const target = path.join(this.rendersDir, `${id}.${name}.${IMAGE_EXTENSIONS[type]}`);
      await writeFile(target, bytes);
      return target;
    };
    const first = await file("image", "first");
    if (!first) return { described: {} };
    const last = await file("last_image", "last");
    // The prediction's input names the files as Replicate would show an uploaded file.
    const described: Record<string, string> = { image: `local:renders/${path.basename(first)}` };
    if (last) described.last_image = `local:renders/${path.basename(last)}`;
    return { paths: { first, last }, described };
  }

  async cancel(ref: string): Promise<void> {
    const run = this.runs.get(ref);
    if (!run || run.state === "done") return;
    if (run.state === "queued") {
      const i = this.queue.indexOf(run);
      if (i >= 0) this.queue.splice(i, 1);
      await this.finish(run, { status: "canceled" });
      return;
    }
    run.controller.abort();
  }

  async get(ref: string): Promise<LocalPrediction | null> {
    const run = this.runs.get(ref);
    if (run) return structuredClone(run.prediction);
    if (!LOCAL_REF_PATTERN.test(ref)) return null;
    // After a restart: a finished render left a sidecar next to its file.
    try {
      const saved = JSON.parse(await readFile(path.join(this.rendersDir, `${ref}.json`), "utf8")) as LocalPrediction;
      if (saved?.id !== ref || !predictionEnded(saved.status)) return null;
      if (saved.status === "succeeded") {
        if (typeof saved.output !== "string") return null;
        const file = resolveLocalOutput(this.dataDir, saved.output);
        if (!file) return null;
        const ok = await stat(/*turbopackIgnore: true*/ file).then(
          (s) => s.isFile() && s.size > 0,
          () => false,
        );
        if (!ok) return null;
      }
      return saved;
    } catch {
      return null;
    }
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
        const i = this.queue.indexOf(run);
        if (i >= 0) this.queue.splice(i, 1);
        this.forgetInterrupted(run);
      } else {
        run.controller.abort();
      }
    }
  }

  private forgetInterrupted(run: Run): void {
    run.state = "done";
    liveControllers.delete(run.controller);
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.progressTimer = null;
    this.runs.delete(run.prediction.id);
  }

  // -------------------------------------------------------------------------------------------
  // Running

  private pump(): void {
    while (this.active < this.maxConcurrent && this.queue.length > 0) {
      const run = this.queue.shift();
      if (!run) break;
      this.active++;
      void this.execute(run)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private appendLog(run: Run, line: string): void {
    run.prediction.logs = `${run.prediction.logs ?? ""}${line}\n`;
  }

  private async execute(run: Run): Promise<void> {
    if (run.state !== "queued") return;
    run.state = "running";
    run.startedMs = Date.now();
    liveControllers.add(run.controller);
    installExitHook();
    const p = run.prediction;
    p.status = "processing";
    p.started_at = new Date(run.startedMs).toISOString();
    this.appendLog(run, "Local preview renderer (ffmpeg) - not an AI model");
    this.send(run, false);

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
        this.appendLog(run, `seed: ${plan.seed}`);
        this.appendLog(run, `size: ${plan.width}x${plan.height}, ${plan.durationSeconds} s at ${plan.fps} fps`);
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
        this.appendLog(run, `soundtrack: ${plan.notes.map((f) => `${f} Hz`).join(", ")}, ${plan.durationSeconds} s`);
        fps = info.video.fps ?? DEFAULT_FPS;
        total = Math.max(1, Math.round(info.durationSeconds * fps));
        args = plan.args;
        label = "Adding sound";
      }
      this.appendLog(run, `${label}: ${total} frames`);
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
        this.appendLog(run, line);
        if (!pr.done) this.scheduleProgress(run);
      };
      await runFfmpeg(args, { signal: run.controller.signal, timeoutMs: this.renderTimeoutMs, onProgress });

      const written = await stat(partPath).catch(() => null);
      if (!written || written.size === 0) throw new Error("ffmpeg wrote no video");
      await rename(partPath, finalPath);
      const seconds = (Date.now() - run.startedMs) / 1000;
      if (!run.lastLine.includes("100%")) this.appendLog(run, tqdmLine(total, total, seconds));
      this.appendLog(run, `Done in ${seconds.toFixed(1)} s`);
      await this.finish(run, { status: "succeeded", output: localOutput(id) });
    } catch (err) {
      await unlink(partPath).catch(() => undefined);
      // Stopped by a signal that was not ours (a stop that reached ffmpeg first, the OOM killer):
      // cut off, not failed, like a render this server interrupted itself.
      if (run.interrupted || (!run.controller.signal.aborted && killedBySignal(err))) {
        this.appendLog(run, "Interrupted: the render starts again");
        this.forgetInterrupted(run);
        return;
      }
      if (run.controller.signal.aborted) {
        this.appendLog(run, "Canceled");
        await this.finish(run, { status: "canceled" });
      } else {
        const why = message(err).slice(0, 2000);
        this.appendLog(run, `Error: ${why}`);
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
    liveControllers.delete(run.controller);
    // The frame images were only for this render (the job keeps its own copies).
    if (run.job.step === "generate" && run.job.frames) for (const f of run.job.frames) await unlink(f).catch(() => undefined);
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.progressTimer = null;
    const p = run.prediction;
    p.status = result.status;
    p.output = result.status === "succeeded" ? result.output : null;
    p.error = result.status === "failed" ? result.error : null;
    p.completed_at = new Date().toISOString();
    if (run.startedMs) p.metrics = { predict_time: Math.round(Date.now() - run.startedMs) / 1000 };

    await writeFile(path.join(this.rendersDir, `${p.id}.json`), JSON.stringify(p)).catch(() => undefined);
    const evict = setTimeout(() => this.runs.delete(p.id), this.keepMs);
    evict.unref?.();
    this.send(run, true);
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks

  private scheduleProgress(run: Run): void {
    if (!run.webhookUrl || run.state !== "running" || run.progressQueued || run.progressTimer) return;
    const wait = run.lastProgressSentAt + this.progressIntervalMs - Date.now();
    if (wait > 0) {
      run.progressTimer = setTimeout(() => {
        run.progressTimer = null;
        this.scheduleProgress(run);
      }, wait);
      return;
    }
    run.progressQueued = true;
    run.chain = run.chain.then(async () => {
      run.progressQueued = false;
      if (run.state !== "running") return;
      run.lastProgressSentAt = Date.now();
      await this.deliver(run, JSON.stringify(run.prediction), false);
    });
  }

  /** Queues a delivery of the prediction as it is now (the start event, or the completed one). */
  private send(run: Run, completed: boolean): void {
    if (!run.webhookUrl) return;
    const body = JSON.stringify(run.prediction);
    if (!completed) run.lastProgressSentAt = Date.now();
    run.chain = run.chain.then(() => this.deliver(run, body, completed));
  }

  private async deliver(run: Run, body: string, retry: boolean): Promise<void> {
    const url = run.webhookUrl;
    if (!url) return;
    const msgId = newWebhookId();
    const attempts = retry ? 1 + this.retryDelaysMs.length : 1;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(this.retryDelaysMs[i - 1] ?? 1000);
      try {
        const res = await this.fetchImpl(url, {
          method: "POST",
          // Signed again on each try: the timestamp is checked against a 5-minute tolerance.
          headers: { ...this.sign(body, msgId), "user-agent": "prompt2video-local-engine" },
          body,
          signal: AbortSignal.timeout(this.deliveryTimeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
      } catch {
        // network failure: retry (completed events only)
      }
    }
  }
}
