import type { JobStore } from "@/lib/store/types";

/**
 * Fixed-window counters for the spend limits, on the store's own counters on every backend
 * (`store.increment`: one atomic step, so racing requests cannot pass a limit). A window starts
 * with its first count and lasts `windowSeconds`; `retryAfterSeconds` is the time left in it.
 */
export type Window = {
  /** What is counted, e.g. `limit:browser:<owner>`; the store's prefix is added. */
  key: string;
  /** Most takes allowed in one window (> 0). */
  limit: number;
  windowSeconds: number;
};

export type Take = { ok: boolean; retryAfterSeconds: number };

/** Counts one; `ok` when the count is still within the limit. */
export async function take(store: JobStore, w: Window): Promise<Take> {
  const { count, resetInSeconds } = await store.increment(w.key, w.windowSeconds);
  return { ok: count <= w.limit, retryAfterSeconds: Math.max(1, resetInSeconds) };
}

/** Undoes one `take` (refused, or its job could not be created); a counter back at 0 is removed. */
export function giveBack(store: JobStore, w: Window): Promise<void> {
  return store.decrement(w.key);
}
