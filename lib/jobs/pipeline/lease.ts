import "server-only";
import type { StepName } from "@/lib/core/job";
import { transition } from "@/lib/jobs/domain/transition";
import { jobLog } from "@/lib/log";
import { getStore } from "@/lib/store";

/** One renewal holds this long: when the process dies, the step is presumed lost soon after. */
export const LEASE_MS = 60_000;
const RENEW_EVERY_MS = 20_000;
/** Past this a step is presumed hung, lease or not (a copy that stalls is cut by its own idle timeout). */
const MAX_LEASED_MS = 15 * 60_000;

/**
 * Runs work that the app does itself for a step (saving the video) while renewing the step's
 * lease, so that reconciliation does not start the step again while it is still under way.
 */
export async function withLease<T>(jobId: string, step: StepName, attempt: number, work: () => Promise<T>): Promise<T> {
  const startedAt = Date.now();
  const renew = () => {
    const now = Date.now();
    if (now - startedAt > MAX_LEASED_MS) return clearInterval(timer);
    void getStore()
      .update(jobId, (job) => transition(job, { type: "step.lease", step, attempt, until: now + LEASE_MS }, now))
      .catch((error: unknown) =>
        jobLog(jobId).warn({ err: error instanceof Error ? error.message : String(error) }, "lease renewal failed"),
      );
  };
  // Taken at once, so that a process that dies early is noticed when this first lease runs out.
  renew();
  const timer = setInterval(renew, RENEW_EVERY_MS);
  timer.unref?.();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
