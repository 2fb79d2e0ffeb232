import { lock, unlock } from "@/lib/limits/browser-lock";
import { groupRefusal, openJobs, openJobsCap, runningRefusal } from "@/lib/limits/running";
import { giveBackAll, takeAll } from "@/lib/limits/take-all";
import type { LimitRefusal, LimitsInput } from "@/lib/limits/types";
import { createWindows, limitKeys } from "@/lib/limits/windows";

/**
 * Creates a job only if this browser may start one now: the hourly and daily counters first (one
 * command each), then the browser's open jobs. `create` must store the job (and nothing else
 * that costs money: the engine starts after). Counting the open jobs and creating the new one
 * happen under a per-browser lock, so two requests at once cannot both see a free slot. When
 * `create` throws, the counters are given back and the error passes through.
 */
export async function withinCreateLimits<T>(
  input: LimitsInput,
  create: () => Promise<T>,
  /** Jobs `create` stores at once (the members of a group): each is counted, and all are refused together. */
  count = 1,
): Promise<{ ok: true; value: T } | LimitRefusal> {
  const { ownerId, store, now, env } = input;
  if (!env.RATE_LIMITS) return { ok: true, value: await create() };

  // One take per job from every counter; the first refusal gives back all taken so far.
  const windows = createWindows(input).flatMap((w) => Array.from({ length: count }, () => w));
  const counted = await takeAll(store, windows, now);
  if (!counted.ok) return counted;
  const giveBack = () => giveBackAll(store, counted.taken);

  try {
    const maxRunning = openJobsCap(env);
    if (maxRunning <= 0) return { ok: true, value: await create() };
    const key = limitKeys.creating(ownerId);
    if (!(await lock(store, key))) {
      await giveBack();
      return {
        ok: false,
        reason: "running",
        retryAfterSeconds: 5,
        message: "Another video from this browser is being started; try again in a moment.",
      };
    }
    try {
      const running = await openJobs(store, ownerId, now);
      if (running + count > maxRunning) {
        await giveBack();
        return count > 1 ? groupRefusal(count, maxRunning, running) : runningRefusal(running);
      }
      return { ok: true, value: await create() };
    } finally {
      await unlock(store, key);
    }
  } catch (error) {
    await giveBack();
    throw error;
  }
}
