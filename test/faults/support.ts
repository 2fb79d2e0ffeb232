import type { Job } from "@/lib/core/job";
import { derive } from "@/lib/jobs/domain/derive-status";
import { makeJob, makeStep } from "@/test/support/job-factory";
import { prng } from "@/lib/engines/local/seed";
import { webhookSigner } from "@/lib/webhooks/sign";

/** Helpers shared by the fault tests: signed deliveries and jobs waiting on a generate step. */

export type Delivery = {
  jobId: string;
  body: string;
  webhookId: string;
  step?: string;
  attempt?: number | string;
  /** Defaults to the harness's LOCAL_WEBHOOK_SECRET. */
  secret?: string;
  /** Signing time; defaults to now. */
  at?: Date;
};

export function harnessSecret(): string {
  const secret = process.env.LOCAL_WEBHOOK_SECRET;
  if (!secret) throw new Error("LOCAL_WEBHOOK_SECRET is not set: start the app harness first");
  return secret;
}

export function signedHeaders(d: Pick<Delivery, "body" | "webhookId" | "secret" | "at">): Record<string, string> {
  return webhookSigner(d.secret ?? harnessSecret())(d.body, d.webhookId, d.at);
}

export function webhookUrl(origin: string, d: Pick<Delivery, "jobId" | "step" | "attempt">): string {
  const q = new URLSearchParams({ job: d.jobId, step: d.step ?? "generate", attempt: String(d.attempt ?? 1) });
  return `${origin}/api/webhook?${q}`;
}

export function deliver(origin: string, d: Delivery): Promise<Response> {
  return fetch(webhookUrl(origin, d), { method: "POST", headers: signedHeaders(d), body: d.body });
}

export { newWebhookId } from "@/lib/webhooks/sign";

/** The prediction id the test jobs' generate step waits on. */
export const refOf = (jobId: string) => `pred-${jobId}`;
/** What the local engine reports as a finished render (the only output shape it accepts). */
export const outputOf = (jobId: string) => `local:renders/${jobId}/video.mp4`;

/**
 * A job whose generate step runs on the local engine (attempt 1, prediction `refOf(id)`), the
 * prompt already enhanced, no sound, and the save step skipped: a succeeded generate event
 * ends the job, so nothing but webhook deliveries changes it.
 */
export function generatingJob(overrides: Partial<Job> = {}): Job {
  const now = Date.now();
  const base = makeJob(overrides);
  const job = makeJob({
    ...overrides,
    id: base.id,
    startedAt: now,
    engineRef: refOf(base.id),
    finalPrompt: base.prompt,
    enhancedPrompt: base.prompt,
    steps: [
      makeStep("enhance", {
        state: "done",
        attempt: 1,
        startedAt: now,
        completedAt: now,
        runningAt: now,
        progress: 100,
        output: base.prompt,
      }),
      makeStep("generate", { state: "running", attempt: 1, ref: refOf(base.id), startedAt: now, progress: 0 }),
      makeStep("sound", { state: "skipped" }),
      makeStep("save", { state: "skipped" }),
    ],
  });
  return derive(job);
}

/** tqdm's bar line for `n` of `total`, as a video model prints it. */
export function tqdmLine(n: number, total: number): string {
  const pct = Math.floor((n / total) * 100);
  const filled = Math.floor(pct / 10);
  return `${String(pct).padStart(3)}%|${"█".repeat(filled)}${" ".repeat(10 - filled)}| ${n}/${total} [00:0${n % 10}<00:10, 2.00it/s]`;
}

/** Runs `tasks` with at most `limit` at once. */
export async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** A small seeded PRNG (mulberry32), so a failing shuffle can be replayed. */
export const seeded = prng;

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
