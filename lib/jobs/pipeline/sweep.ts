import "server-only";
import { sweepQueue } from "@/lib/jobs/pipeline/dispatch";
import { needsReconcile, reconcile } from "@/lib/jobs/pipeline/reconcile";
import { log } from "@/lib/log";
import { isStopping } from "@/lib/ops/shutdown";
import { getStore } from "@/lib/store";

/**
 * The sweeper moves jobs on that nobody is watching: a lost final webhook, a step whose process
 * died, a save to retry before the provider deletes its output (one hour). It runs from the
 * Vercel Cron route (app/api/cron/sweep) and, self-hosted, from a timer in the server
 * (startSweepTimer). One sweep runs its tasks in order; each task does its own small query.
 */

/** Most unfinished jobs looked at per sweep (newest first); the rest wait for the next one. */
const UNFINISHED_PER_SWEEP = 500;
/** Jobs reconciled at once: each may wait on Replicate or copy a video. */
const CONCURRENCY = 8;
/**
 * One sweep at a time across instances. Released when the sweep ends; after a crash it expires
 * by itself. A sweep that outlives it may overlap the next one, which is harmless: each job's
 * reconciliation is already one at a time (see reconcile.ts).
 */
const LEASE_KEY = "sweep:lease";
const LEASE_SECONDS = 50;

export type SweepTask = {
  name: string;
  /** Returns how many jobs it acted on, for the log and the cron route's answer. */
  run(now: number): Promise<number>;
};

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Unfinished jobs that need a nudge, reconciled through the same path as a viewer's (reconcile.ts). */
async function reconcileUnfinished(now: number): Promise<number> {
  const jobs = await getStore().listUnfinished(UNFINISHED_PER_SWEEP);
  const due = jobs.filter((job) => needsReconcile(job, now));
  await eachLimited(due, CONCURRENCY, (job) => reconcile(job.id));
  return due.length;
}

/**
 * The line of waiting jobs (lib/jobs/pipeline/dispatch.ts): slots of ended jobs freed, claimed jobs that
 * were never told admitted, stored jobs missing from the line put in it, then a dispatch.
 */
async function moveTheLine(): Promise<number> {
  const { released, enqueued, admitted } = await sweepQueue();
  return released + enqueued + admitted;
}

/**
 * What one sweep does, in order: reconciliation first, which is what ends jobs and frees their
 * slots, then the line, which hands the freed slots on.
 */
export const SWEEP_TASKS: SweepTask[] = [
  { name: "reconcile", run: reconcileUnfinished },
  { name: "queue", run: moveTheLine },
];

export type SweepResult = { ran: true; tasks: Record<string, number | "failed"> } | { ran: false; reason: string };

let running: Promise<SweepResult> | null = null;

export function sweep(tasks: SweepTask[] = SWEEP_TASKS): Promise<SweepResult> {
  if (isStopping()) return Promise.resolve({ ran: false, reason: "this process is stopping" });
  // In this process: a timer tick during a long sweep does not start a second one.
  if (running) return Promise.resolve({ ran: false, reason: "a sweep is already running in this process" });
  running = sweepOnce(tasks).finally(() => {
    running = null;
  });
  return running;
}

async function sweepOnce(tasks: SweepTask[]): Promise<SweepResult> {
  const store = getStore();
  if (!(await store.setOnce(LEASE_KEY, LEASE_SECONDS))) return { ran: false, reason: "another instance is sweeping" };
  const result: Record<string, number | "failed"> = {};
  try {
    for (const task of tasks) {
      try {
        result[task.name] = await task.run(Date.now());
      } catch (error) {
        result[task.name] = "failed";
        log.warn({ task: task.name, err: error instanceof Error ? error.message : String(error) }, "sweep task failed");
      }
    }
  } finally {
    await store.forget(LEASE_KEY).catch(() => undefined);
  }
  const acted = Object.values(result).some((n) => n !== 0);
  if (acted) log.info({ tasks: result }, "sweep done");
  return { ran: true, tasks: result };
}
