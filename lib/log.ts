import "server-only";
import pino from "pino";
import { env } from "@/lib/env";

/** Structured logs: one JSON line per event, always with the job id when there is one. */
export const log = pino({
  level: env().LOG_LEVEL,
  base: { app: "prompt2video" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export function jobLog(jobId: string) {
  return log.child({ jobId });
}
