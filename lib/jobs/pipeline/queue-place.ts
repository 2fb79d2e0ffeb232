import { env } from "@/lib/env";
import { queueClock } from "@/lib/jobs/pipeline/queue-clock";
import { isTerminal, NOT_WAITING, type Job, type QueuePlace, type QueueStatus } from "@/lib/core/job";
import { isAdmitted } from "@/lib/jobs/domain/steps";
import { getModel } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import type { QueueSnapshot } from "@/lib/store/queue";

/**
 * Where a waiting job stands in line and how long it will likely wait, for the status API, the
 * event stream and the pages. The estimate is honest about what it knows: how long recent jobs
 * held their slot (a moving average kept by the store), and before any has finished, the job's
 * model's typical run time; plus an engine's hold after a 429.
 */

function slotSeconds(snap: QueueSnapshot, fallbackSeconds: number): number {
  return snap.averageRunMs !== null ? snap.averageRunMs / 1000 : fallbackSeconds;
}

/**
 * Seconds until the job `ahead + 1`-th in line starts: each round of `maxRunning` jobs takes one
 * slot's time. A slot already busy is, on average, half done.
 */
export function estimateWaitSeconds(
  position: number,
  running: number,
  maxRunning: number,
  perSlotSeconds: number,
): number {
  if (maxRunning <= 0 || running + position <= maxRunning) return 0;
  const rounds = Math.ceil(position / maxRunning);
  return Math.max(0, Math.round((rounds - 0.5) * perSlotSeconds));
}

export function placeIn(snap: QueueSnapshot, job: Job, now: number, maxRunning: number): QueuePlace {
  if (isTerminal(job.status) || isAdmitted(job)) return NOT_WAITING;
  const index = snap.waiting.indexOf(job.id);
  if (index < 0) return NOT_WAITING;
  const position = index + 1;
  const perSlot = slotSeconds(snap, getModel(job.model).typicalSeconds);
  const held = snap.holds[job.engine];
  const untilHold = held ? Math.ceil((held - now) / 1000) : 0;
  return {
    queuePosition: position,
    queueWaitSeconds: Math.max(untilHold, estimateWaitSeconds(position, snap.running.length, maxRunning, perSlot)),
  };
}

/** Watchers of many waiting jobs share one read of the line per this long, on each instance. */
const SNAPSHOT_TTL_MS = 500;
const holder = globalThis as typeof globalThis & {
  __prompt2videoQueueSnap?: { at: number; snap: Promise<QueueSnapshot> } | null;
};

/** The line as the store has it, at most SNAPSHOT_TTL_MS old (changes made by this instance show at once). */
export function queueSnapshot(): Promise<QueueSnapshot> {
  const now = Date.now();
  const cached = holder.__prompt2videoQueueSnap;
  if (cached && now - cached.at < SNAPSHOT_TTL_MS) return cached.snap;
  const snap = getStore().queue.snapshot(queueClock().now());
  const entry = { at: now, snap };
  holder.__prompt2videoQueueSnap = entry;
  snap.catch(() => holder.__prompt2videoQueueSnap === entry && (holder.__prompt2videoQueueSnap = null));
  return snap;
}

/** After this instance changed the line: the next read goes to the store. */
export function forgetQueueSnapshot(): void {
  holder.__prompt2videoQueueSnap = null;
}

/** A job's place in line; NOT_WAITING for a job that is not waiting (without reading the line). */
export async function queuePlace(job: Job): Promise<QueuePlace> {
  if (isTerminal(job.status) || isAdmitted(job)) return NOT_WAITING;
  return placeIn(await queueSnapshot(), job, queueClock().now(), env().MAX_RUNNING_JOBS);
}

/** Before any job has finished here, a slot is taken to last this long when no model is named. */
export const DEFAULT_QUEUE_MODEL_SECONDS = 60;

/** The line as a newcomer sees it: a job made now would wait behind everyone waiting. */
export async function queueStatus(typicalSeconds: number): Promise<QueueStatus> {
  const snap = await queueSnapshot();
  const maxRunning = env().MAX_RUNNING_JOBS;
  const position = snap.waiting.length + 1;
  const waitSeconds = estimateWaitSeconds(position, snap.running.length, maxRunning, slotSeconds(snap, typicalSeconds));
  return { waiting: snap.waiting.length, running: snap.running.length, maxRunning, waitSeconds };
}
