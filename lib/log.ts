import pino from "pino";
import { env } from "@/lib/env";

/**
 * Structured logs: one JSON line per event, always with the job id when there is one.
 * No `server-only` guard: the job stores log through this too, and they are also loaded outside
 * Next (the benchmark, the test tooling). Nothing here is secret, and no client code imports it.
 */
export const log = pino({
  level: env().LOG_LEVEL,
  base: { app: "prompt2video" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export function jobLog(jobId: string) {
  return log.child({ jobId });
}
