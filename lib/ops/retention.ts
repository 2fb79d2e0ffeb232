import "server-only";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { env } from "@/lib/env";
import { getVideoStore } from "@/lib/files";
import { isValidJobId } from "@/lib/files/types";
import { log } from "@/lib/log";
import { getStore } from "@/lib/store";

/** Intermediate renders of the local engine are copied into video storage; a day is plenty for a retry. */
const RENDER_MAX_AGE_MS = 24 * 60 * 60 * 1000;

async function entries(dir: string): Promise<string[]> {
  return readdir(/*turbopackIgnore: true*/ dir).catch(() => []);
}

/**
 * The retention policy, applied: job records older than JOB_RETENTION_DAYS go (Redis expires
 * them by itself; the embedded store is swept), then the local video files whose job is gone,
 * and old intermediate renders. Returns what was removed.
 */
export async function applyRetention(now = Date.now()): Promise<{ jobs: number; videoDirs: number; renders: number }> {
  const store = getStore();
  const jobs = await store.sweep(now);
  const dataDir = env().DATA_DIR;

  let videoDirs = 0;
  if (getVideoStore().kind === "local") {
    for (const jobId of await entries(path.join(dataDir, "videos"))) {
      if (!isValidJobId(jobId)) continue;
      // Only a job known to be gone loses its video: a record that cannot be read (or a store
      // that does not answer) keeps it.
      const job = await store.get(jobId).catch((error: unknown) => {
        log.warn(
          { jobId, err: error instanceof Error ? error.message : String(error) },
          "retention: keeping a video whose job cannot be read",
        );
        return undefined;
      });
      if (job !== null) continue;
      await getVideoStore().delete(jobId);
      videoDirs++;
    }
  }

  let renders = 0;
  const rendersDir = path.join(dataDir, "renders");
  for (const name of await entries(rendersDir)) {
    const file = path.join(rendersDir, name);
    const info = await stat(/*turbopackIgnore: true*/ file).catch(() => null);
    if (info && now - info.mtimeMs > RENDER_MAX_AGE_MS) {
      await rm(/*turbopackIgnore: true*/ file, { force: true });
      renders++;
    }
  }
  return { jobs, videoDirs, renders };
}
