import type { Job } from "@/lib/core/job";
import { encodeCursor } from "@/lib/store/cursor";
import { parseJob, type RedisKeys } from "@/lib/store/redis-layout";
import { LIST, type RunScript } from "@/lib/store/redis-scripts";
import type { JobPage } from "@/lib/store/types";

/**
 * One page of an index (sorted set by createdAt), newest first, after the cursor's position. One
 * more row than asked is fetched to know whether there is a next page; unreadable records are
 * skipped (and logged), not returned.
 */
export async function listPage(
  script: RunScript,
  prefix: string,
  keys: RedisKeys,
  key: string,
  limit: number,
  after: { createdAt: number; id: string } | null,
): Promise<JobPage> {
  if (limit <= 0) return { jobs: [], nextCursor: null };
  const max = after ? String(after.createdAt) : "+inf";
  const rows = (await script(LIST, [key], [prefix, max, after?.id ?? "", limit + 1])) as string[];
  const found = Math.floor(rows.length / 3);
  const jobs: Job[] = [];
  for (let i = 0; i < Math.min(found, limit); i++) {
    const job = parseJob(rows[3 * i + 2], keys.job(rows[3 * i]!));
    if (job) jobs.push(job);
  }
  const lastRow = 3 * (limit - 1);
  const nextCursor = found > limit ? encodeCursor(rows[lastRow + 1]!, rows[lastRow]!) : null;
  return { jobs, nextCursor };
}
