import "server-only";
import { env } from "@/lib/env";
import { sweep } from "@/lib/jobs/pipeline/sweep";
import { log } from "@/lib/log";
import { onStop } from "@/lib/ops/shutdown";

/**
 * Self-hosted, the server sweeps itself: once soon after it starts (jobs a previous process left
 * unfinished), then every SWEEP_INTERVAL_SECONDS (0: only the first). On Vercel functions are
 * frozen between requests, so Vercel Cron calls /api/cron/sweep instead and no timer runs.
 */

/** Long enough for a dead process's steps to have been quiet long enough to be recognised as lost. */
const FIRST_SWEEP_MS = 6_000;

function runSweep(): void {
  sweep().catch((error: unknown) =>
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "sweep failed"),
  );
}

export function startSweepTimer(): void {
  const e = env();
  if (e.VERCEL) return;
  const first = setTimeout(runSweep, FIRST_SWEEP_MS);
  first.unref();
  const every = e.SWEEP_INTERVAL_SECONDS > 0 ? setInterval(runSweep, e.SWEEP_INTERVAL_SECONDS * 1000) : null;
  every?.unref();
  onStop(() => {
    clearTimeout(first);
    if (every) clearInterval(every);
  });
}
