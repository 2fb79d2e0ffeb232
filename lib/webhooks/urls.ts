import "server-only";
import type { EngineId, StepName } from "@/lib/core/job";
import { env } from "@/lib/env";

/**
 * Where an engine must deliver a step's updates, or null when nothing can reach us (no public
 * APP_URL for Replicate): then reconciliation asks the engine instead. The query names the job,
 * step and attempt; the signature, not the query, is what is trusted.
 */
export function webhookUrl(engine: EngineId, jobId: string, step: StepName, attempt: number): string | null {
  const e = env();
  const base = engine === "local" ? `http://127.0.0.1:${process.env.PORT ?? e.PORT}` : e.APP_URL;
  if (!base) return null;
  const query = new URLSearchParams({ job: jobId, step, attempt: String(attempt) });
  return `${base}/api/webhook?${query.toString()}`;
}
