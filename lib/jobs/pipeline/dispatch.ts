import "server-only";
import { env, type Env } from "@/lib/env";
import { advance, applyEvent } from "@/lib/jobs/pipeline/advance";
import { queueClock, type QueueClock } from "@/lib/jobs/pipeline/queue-clock";
import { forgetQueueSnapshot } from "@/lib/jobs/pipeline/queue-place";
import { isTerminal, type Job } from "@/lib/core/job";
import { isAdmitted } from "@/lib/jobs/domain/steps";
import { jobLog, log } from "@/lib/log";
import { getStore } from "@/lib/store";
import type { QueueLimits } from "@/lib/store/queue";

/**
 * Admission and dispatch without a long-running worker (docs/queue.md). A new job joins the line
 * kept by the store; whatever frees a slot hands it on at once: the end of a job (the webhook or
 * step that ended it, a cancel, a delete) calls `jobEnded`, which releases the slot and runs
 * `dispatch`. A job the engine refused for now (a 429) is put back at the head of the line and
 * its engine held until the Retry-After; a timer wakes the dispatcher then, and `sweepQueue`, a
 * task of the periodic sweep (lib/jobs/pipeline/sweep.ts), catches any hand-over a crashed or frozen
 * instance missed.
 */

export function queueLimits(e: Pick<Env, "MAX_RUNNING_JOBS" | "MAX_RUNNING_JOBS_PER_BROWSER"> = env()): QueueLimits {
  return { maxRunning: e.MAX_RUNNING_JOBS, perOwner: e.MAX_RUNNING_JOBS_PER_BROWSER };
}

/** Puts a stored job in line (nothing happens when it already is). */
export async function enqueueJob(job: Pick<Job, "id" | "ownerId" | "engine">): Promise<void> {
  await getStore().queue.enqueue({ jobId: job.id, ownerId: job.ownerId ?? "", engine: job.engine }, queueClock().now());
  forgetQueueSnapshot();
}

/** Rounds of claim → admit in one dispatch; another round only when a claimed job had already ended. */
const MAX_ROUNDS = 5;

/**
 * Admits waiting jobs while slots are free and starts them. Claims are atomic in the store, so
 * any number of instances may dispatch at once. Resolves when the admitted jobs have started
 * (their first engine call answered), so that a serverless function keeps running until then.
 */
export async function dispatch(): Promise<void> {
  const store = getStore();
  const starts: Promise<void>[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = queueClock().now();
    const ids = await store.queue.claim(queueLimits(), now);
    if (ids.length === 0) break;
    forgetQueueSnapshot();
    const freed = await Promise.all(
      ids.map(async (id) => {
        const admitted = await applyEvent(id, { type: "admit" });
        if (!admitted || isTerminal(admitted.job.status)) {
          // Deleted or ended while it waited: its slot goes to the next one.
          await store.queue.release(id, now, false);
          return true;
        }
        jobLog(id).info({ waitedMs: Math.max(0, now - admitted.job.createdAt) }, "job admitted");
        starts.push(proceed(id));
        return false;
      }),
    );
    if (!freed.includes(true)) break;
  }
  await Promise.all(starts);
}

/**
 * Runs a job's next steps, then looks at where it stands: an ended job gives its slot back, and
 * one put back in line (its engine said 429) lets the next job go and wakes up when its engine
 * may be tried again.
 */
export async function proceed(jobId: string): Promise<void> {
  try {
    const job = await advance(jobId);
    if (!job || isTerminal(job.status)) return await jobEnded(jobId, job?.status === "succeeded");
    if (!isAdmitted(job)) {
      const { holds } = await getStore().queue.snapshot(queueClock().now());
      const until = Math.min(...Object.values(holds));
      if (Number.isFinite(until)) wakeAt(until);
      await dispatch();
    }
  } catch (error) {
    jobLog(jobId).warn({ err: error instanceof Error ? error.message : String(error) }, "advancing a job failed");
  }
}

/** A job ended (or was deleted): its slot, or its place in line, goes to the next job at once. */
export async function jobEnded(jobId: string, finished: boolean): Promise<void> {
  if (!(await getStore().queue.release(jobId, queueClock().now(), finished))) return;
  forgetQueueSnapshot();
  await dispatch();
}

type Wake = { at: number; clock: QueueClock; cancel: () => void };
const holder = globalThis as typeof globalThis & { __prompt2videoQueueWake?: Wake | null };

/**
 * One timer per process, for the earliest time a held engine may be tried again. When it fires it
 * dispatches, then arms itself for any hold still in force (a later one, or one renewed by a 429).
 */
function wakeAt(at: number): void {
  const clock = queueClock();
  const current = holder.__prompt2videoQueueWake;
  // A pending earlier wake covers this one: it re-arms for what is still held when it fires.
  if (current && current.clock === clock && current.at <= at && current.at > clock.now()) return;
  current?.cancel();
  const wake: Wake = { at, clock, cancel: () => undefined };
  wake.cancel = clock.after(at - clock.now(), () => {
    if (holder.__prompt2videoQueueWake === wake) holder.__prompt2videoQueueWake = null;
    void (async () => {
      await dispatch();
      const { holds, waiting } = await getStore().queue.snapshot(clock.now());
      const next = Math.min(...Object.values(holds));
      if (waiting.length > 0 && Number.isFinite(next)) wakeAt(next);
    })().catch((error: unknown) => log.warn({ err: String(error) }, "dispatch after a hold failed"));
  });
  holder.__prompt2videoQueueWake = wake;
}

/** Forgets a pending wake (tests, between two app harnesses: it would dispatch on the next one's store). */
export function cancelWake(): void {
  holder.__prompt2videoQueueWake?.cancel();
  holder.__prompt2videoQueueWake = null;
}

/** How many unfinished jobs the sweep looks at for one that never made it into the line. */
const SWEEP_UNFINISHED = 500;

/**
 * Repairs what a crash between two writes can leave, then dispatches: a slot held by a job that
 * ended or was deleted is freed, a claimed job that was never told is admitted, and an unfinished
 * job waiting for a slot but missing from the line joins it. Safe to run on any instance at any
 * time (every step is idempotent).
 */
export async function sweepQueue(): Promise<{ released: number; enqueued: number; admitted: number }> {
  const store = getStore();
  const now = queueClock().now();
  const snap = await store.queue.snapshot(now);
  let released = 0;
  let enqueued = 0;
  let admitted = 0;
  const inLine = new Set([...snap.waiting, ...snap.running.map((r) => r.jobId)]);
  for (const { jobId } of snap.running) {
    const job = await store.get(jobId);
    if (!job || isTerminal(job.status)) {
      if (await store.queue.release(jobId, now, job?.status === "succeeded")) released++;
    } else if (!isAdmitted(job)) {
      admitted++;
      await applyEvent(jobId, { type: "admit" });
      void proceed(jobId);
    }
  }
  for (const jobId of snap.waiting) {
    const job = await store.get(jobId);
    if ((!job || isTerminal(job.status)) && (await store.queue.release(jobId, now, false))) released++;
  }
  for (const job of await store.listUnfinished(SWEEP_UNFINISHED)) {
    if (!isTerminal(job.status) && !isAdmitted(job) && !inLine.has(job.id)) {
      await enqueueJob(job);
      enqueued++;
    }
  }
  const until = Math.min(...Object.values(snap.holds));
  if (Number.isFinite(until)) wakeAt(until);
  await dispatch();
  return { released, enqueued, admitted };
}
