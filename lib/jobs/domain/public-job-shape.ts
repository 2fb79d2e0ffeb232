import { JOB_ID_PATTERN, JOB_STATUSES, type JobStatus } from "@/lib/core/job-status";
import type { PublicJob } from "@/lib/core/job";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An answer of our own API taken as a job record in the browser, or null when it is not one (a
 * proxy's error page, a half-written body). The server builds every record from the job schema
 * (`toPublicJob`), so the browser checks the fields the page relies on to pick what to show,
 * without Zod: the schema module would add about 30 kB (gzipped) to every page that reads a job.
 */
export function asPublicJob(value: unknown): PublicJob | null {
  if (!isObject(value)) return null;
  const ok =
    typeof value.id === "string" &&
    JOB_ID_PATTERN.test(value.id) &&
    Number.isSafeInteger(value.seq) &&
    (value.seq as number) >= 0 &&
    JOB_STATUSES.includes(value.status as JobStatus) &&
    typeof value.stage === "string" &&
    typeof value.message === "string" &&
    (value.progress === null || typeof value.progress === "number") &&
    typeof value.prompt === "string" &&
    typeof value.shared === "boolean" &&
    isObject(value.params) &&
    isObject(value.options) &&
    Array.isArray(value.steps) &&
    value.steps.every((s) => isObject(s) && typeof s.name === "string" && typeof s.state === "string") &&
    typeof value.engineLabel === "string" &&
    typeof value.modelLabel === "string";
  return ok ? (value as PublicJob) : null;
}
