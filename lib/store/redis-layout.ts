import { jobSchema, type Job } from "@/lib/core/job";
import { log } from "@/lib/log";

// Stored layout: hash <prefix>job:<id> { data: JSON, seq, owner, createdAt, share }; sorted sets
// (score createdAt) <prefix>jobs:recent, <prefix>owner:<owner> and <prefix>jobs:unfinished (jobs not
// ended); and while a job is shared, string <prefix>share:<token> = <id> with the same lifetime.

/** The keys of the indexes the store's scripts are given, all under one prefix. */
export type RedisKeys = {
  job: (id: string) => string;
  recent: () => string;
  unfinished: () => string;
  owner: (ownerId: string) => string;
};

export function redisKeys(prefix: string): RedisKeys {
  return {
    job: (id) => `${prefix}job:${id}`,
    recent: () => `${prefix}jobs:recent`,
    unfinished: () => `${prefix}jobs:unfinished`,
    owner: (ownerId) => `${prefix}owner:${ownerId}`,
  };
}

/** A stored record's `data`, or null (logged) when it cannot be read as a job. */
export function parseJob(data: unknown, where: string): Job | null {
  try {
    return jobSchema.parse(JSON.parse(String(data)));
  } catch (err) {
    log.error({ key: where, err: (err as Error).message }, "store: an unreadable job record (left as it is)");
    return null;
  }
}
