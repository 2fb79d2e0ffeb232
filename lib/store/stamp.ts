import { jobSchema, type Job } from "@/lib/core/job";

export const DAY_MS = 86_400_000;

/** The record to write for `next`: the store owns id, seq and updatedAt (strictly increasing). */
export function stampUpdate(current: Job, next: Job): Job {
  return jobSchema.parse({
    ...next,
    id: current.id,
    seq: current.seq + 1,
    updatedAt: Math.max(Date.now(), current.updatedAt + 1),
  });
}
