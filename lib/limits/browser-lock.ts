import type { JobStore } from "@/lib/store/types";

/** The per-browser lock around "count the open jobs, then create one". */
const LOCK_TTL_SECONDS = 30;
const LOCK_WAIT_MS = 5000;
const LOCK_POLL_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits a little for the per-browser lock; false when another request keeps holding it. */
export async function lock(store: JobStore, key: string): Promise<boolean> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (await store.setOnce(key, LOCK_TTL_SECONDS)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(LOCK_POLL_MS);
  }
}

/** Lets the lock go; a store that cannot be reached lets it expire. */
export async function unlock(store: JobStore, key: string): Promise<void> {
  await store.forget(key).catch(() => undefined);
}
