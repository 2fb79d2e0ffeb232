import "server-only";
import { getEngine } from "@/lib/engines";
import type { EngineId } from "@/lib/core/job";
import { jobLog } from "@/lib/log";
import { getStore } from "@/lib/store";

/** Longer than a prediction can run (Replicate stops them after 30 minutes): one cancel per run. */
const CANCEL_ONCE_SECONDS = 60 * 60;

/**
 * Cancels a prediction that no step waits for any more (see isOrphan), once across instances
 * however many deliveries report it. A failed cancel is forgotten, so the next report tries again.
 */
export async function cancelOrphan(jobId: string, engine: EngineId, ref: string): Promise<void> {
  const store = getStore();
  const key = `orphan-cancel:${engine}:${ref}`;
  if (!(await store.setOnce(key, CANCEL_ONCE_SECONDS))) return;
  const log = jobLog(jobId);
  log.warn({ engine, ref }, "canceling a prediction that no step is waiting for");
  try {
    await (await getEngine(engine)).cancel(ref);
  } catch (error) {
    await store.forget(key).catch(() => undefined);
    log.warn(
      { ref, err: error instanceof Error ? error.message : String(error) },
      "could not cancel an orphaned prediction",
    );
  }
}
