import http from "node:http";
import { randomBytes } from "node:crypto";
import { makeJob, makeStep } from "../test/support/job-factory";
import { BENCH_OWNER_ID } from "./owner";
import { jobSchema, type Job } from "@/lib/core/job";
import { derive } from "@/lib/jobs/domain/derive-status";
import { webhookSigner, type WebhookSigner } from "@/lib/webhooks/sign";
import { EmbeddedStore } from "@/lib/store/embedded-store";

/**
 * Jobs for the benchmark, written straight into the server's data directory (the embedded store
 * reads each job's file on every get, so the server sees them), and engine events for them: signed
 * webhook deliveries of a prediction whose logs grow by one tqdm line each time, so that every
 * delivery is a real change (a new seq) for the server.
 */

export const BENCH_MODEL = "wan-video/wan-2.2-t2v-fast";

/**
 * A job whose generate step runs on Replicate with a known prediction id. The server runs with
 * APP_URL set and a long RECONCILE_AFTER_SECONDS, so it waits for webhooks and never asks the
 * (fake) provider about these predictions.
 */
export function runningJob(n: number): Job {
  const now = Date.now();
  const job = makeJob({
    engine: "replicate",
    model: BENCH_MODEL,
    prompt: `Benchmark job ${n}: a paper lantern drifting over a dark lake`,
    params: { duration: 5, aspectRatio: "16:9", resolution: "480p", seed: null, negativePrompt: null },
    ownerId: BENCH_OWNER_ID,
    startedAt: now,
    steps: [
      makeStep("enhance", { state: "done", progress: 100, startedAt: now, completedAt: now, runningAt: now }),
      makeStep("generate", {
        state: "running",
        engine: "replicate",
        ref: `bench_${n}_${randomBytes(6).toString("hex")}`,
        attempt: 1,
        startedAt: now,
        runningAt: now,
        progress: 0,
      }),
      makeStep("sound", { state: "skipped" }),
      makeStep("save"),
    ],
  });
  return jobSchema.parse(derive(job));
}

export async function writeJobs(dataDir: string, count: number, first = 0): Promise<Job[]> {
  const store = new EmbeddedStore({ dir: dataDir, retentionDays: 30 });
  const jobs = Array.from({ length: count }, (_, i) => runningJob(first + i));
  for (const job of jobs) await store.create(job);
  await store.close();
  return jobs;
}

function tqdmLine(n: number): string {
  const pct = Math.min(99, n);
  const bar = "#".repeat(Math.floor(pct / 10)).padEnd(10, " ");
  return `${String(pct).padStart(3, " ")}%|${bar}| ${pct}/100 [00:${String(n % 60).padStart(2, "0")}<00:30, 1.00it/s]`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Sends engine events for one job, one at a time; each one the server applies bumps the job's seq by 1. */
export class EngineFeed {
  private lines: string[] = [];
  private readonly sign: WebhookSigner;

  constructor(
    private readonly origin: string,
    readonly job: Job,
    secret: string,
  ) {
    this.sign = webhookSigner(secret);
  }

  /** The seq the job has after the last applied delivery. */
  seq = 0;

  /** POSTs the next progress delivery; resolves when the server answered (after applying it). */
  async next(): Promise<{ seq: number; applied: boolean }> {
    this.lines.push(tqdmLine(this.lines.length + 1));
    const step = this.job.steps.find((s) => s.name === "generate")!;
    const body = JSON.stringify({
      id: step.ref,
      status: "processing",
      logs: this.lines.join("\n"),
      started_at: new Date(this.job.createdAt).toISOString(),
    });
    const headers = { ...this.sign(body), "content-length": String(Buffer.byteLength(body)) };
    const url = new URL(`/api/webhook?job=${this.job.id}&step=generate&attempt=1`, this.origin);
    const expected = this.seq + 1;
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(url, { method: "POST", headers, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(body);
    });
    const applied = (JSON.parse(answer) as { applied?: boolean }).applied === true;
    if (applied) this.seq = expected;
    return { seq: expected, applied };
  }
}

export function closeFeedAgent(): void {
  agent.destroy();
}
