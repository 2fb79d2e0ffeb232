import { isTerminal, type Job } from "@/lib/core/job";
import type { RedisKeys } from "@/lib/store/redis-layout";
import { UPDATE, type RunScript } from "@/lib/store/redis-scripts";
import { stampUpdate } from "@/lib/store/stamp";
import type { UpdateResult } from "@/lib/store/types";

const MAX_UPDATE_TRIES = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type CompareAndSetContext = {
  get: (id: string) => Promise<Job | null>;
  script: RunScript;
  keys: RedisKeys;
  prefix: string;
  ttlSeconds: number;
};

/**
 * Reads the job, applies `fn` and writes the result only if the stored seq is still the one read
 * (the UPDATE script); on a lost race reads again, with a growing random pause.
 */
export async function compareAndSet(
  { get, script, keys, prefix, ttlSeconds }: CompareAndSetContext,
  id: string,
  fn: (job: Job) => Job | null,
): Promise<UpdateResult | null> {
  for (let attempt = 0; attempt < MAX_UPDATE_TRIES; attempt++) {
    const current = await get(id);
    if (!current) return null;
    const next = fn(current);
    if (next === null) return { job: current, changed: false };
    const w = stampUpdate(current, next);
    const unfinished = isTerminal(w.status) ? "0" : "1";
    const args = [
      current.seq,
      JSON.stringify(w),
      w.seq,
      w.ownerId ?? "",
      w.createdAt,
      ttlSeconds,
      id,
      prefix,
      unfinished,
      w.share?.token ?? "",
    ];
    const result = await script(UPDATE, [keys.job(id), keys.recent(), keys.unfinished()], args);
    if (result === -1) return null;
    if (result === 1) return { job: w, changed: true };
    await sleep(Math.random() * 2 ** Math.min(attempt, 6));
  }
  throw new Error(`Job ${id} is changing too fast: gave up after ${MAX_UPDATE_TRIES} tries`);
}
