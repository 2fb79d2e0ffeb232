import { isTerminal } from "@/lib/core/job";
import type { LimitRefusal, LimitsEnv } from "@/lib/limits/types";
import { videos } from "@/lib/limits/wait";
import type { JobStore } from "@/lib/store/types";

/** A running job frees its slot when it finishes; we cannot know when, so suggest a short wait. */
const RUNNING_RETRY_SECONDS = 30;
/**
 * Predictions time out after 30 minutes, so a job still open after two hours was lost (and is
 * left to reconciliation): it must not hold one of its owner's slots forever.
 */
const RUNNING_STALE_MS = 2 * 60 * 60 * 1000;
const RUNNING_SCAN = 50;

/**
 * Unfinished jobs one browser may have: its share of the running slots plus its place in line
 * (MAX_QUEUED_JOBS_PER_BROWSER). 0: no cap (a share of 0 means the browser's jobs are not capped).
 */
export function openJobsCap(
  env: Pick<LimitsEnv, "MAX_RUNNING_JOBS_PER_BROWSER" | "MAX_QUEUED_JOBS_PER_BROWSER">,
): number {
  return env.MAX_RUNNING_JOBS_PER_BROWSER > 0 ? env.MAX_RUNNING_JOBS_PER_BROWSER + env.MAX_QUEUED_JOBS_PER_BROWSER : 0;
}

export async function openJobs(store: JobStore, ownerId: string, now: number): Promise<number> {
  const { jobs } = await store.listByOwner(ownerId, { limit: RUNNING_SCAN });
  return jobs.filter((j) => !isTerminal(j.status) && now - j.createdAt < RUNNING_STALE_MS).length;
}

export function runningRefusal(open: number): LimitRefusal {
  return {
    ok: false,
    reason: "running",
    retryAfterSeconds: RUNNING_RETRY_SECONDS,
    message:
      open === 1
        ? "Your video is still being made; you can start another as soon as it finishes."
        : `You already have ${videos(open)} being made or waiting in line; you can start another as soon as one of them finishes.`,
  };
}

/** A group whose members do not all fit among the running jobs allowed; all are refused together. */
export function groupRefusal(count: number, maxRunning: number, running: number): LimitRefusal {
  return {
    ok: false,
    reason: "running",
    retryAfterSeconds: RUNNING_RETRY_SECONDS,
    message:
      count > maxRunning
        ? `This site takes at most ${videos(maxRunning)} per browser at once (running or waiting in line), so ${count} at once cannot start; make fewer.`
        : `These ${count} videos need ${count} free places of the ${maxRunning} this browser has, and ${running} ${running === 1 ? "is" : "are"} taken; start them when ${running === 1 ? "that video finishes" : "those videos finish"}.`,
  };
}
