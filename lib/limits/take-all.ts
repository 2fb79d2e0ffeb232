import type { LimitRefusal } from "@/lib/limits/types";
import { giveBack as giveBackOne, take, type Window } from "@/lib/limits/window-counters";
import { untilUtcMidnight, type Counted } from "@/lib/limits/windows";
import type { JobStore } from "@/lib/store/types";

/** Undoes the takes of these windows; a counter that cannot be reached keeps its count (it expires). */
export function giveBackAll(store: JobStore, taken: readonly Window[]): Promise<unknown> {
  return Promise.all(taken.map((w) => giveBackOne(store, w).catch(() => undefined)));
}

/**
 * Takes one from each counter in turn. The first refusal gives back every one taken so far (its
 * own included), so a refused request uses up no limit and only what is let through is counted.
 */
export async function takeAll(
  store: JobStore,
  windows: Counted[],
  now: number,
): Promise<{ ok: true; taken: Counted[] } | LimitRefusal> {
  const taken: Counted[] = [];
  const giveBack = () => giveBackAll(store, taken);
  try {
    for (const w of windows) {
      const result = await take(store, w);
      taken.push(w);
      if (!result.ok) {
        await giveBack();
        const retryAfterSeconds = w.reason === "budget" ? untilUtcMidnight(now) : result.retryAfterSeconds;
        return { ok: false, reason: w.reason, retryAfterSeconds, message: w.refusal(retryAfterSeconds) };
      }
    }
    return { ok: true, taken };
  } catch (error) {
    await giveBack();
    throw error;
  }
}
