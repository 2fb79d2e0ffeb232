import type { TestProject } from "vitest/node";
import { ensureRedis, stopStartedRedis } from "./redis";

declare module "vitest" {
  export interface ProvidedContext {
    /** A reachable Redis URL, or "" when none could be found or started. */
    redisUrl: string;
    /** Why there is no Redis (install instructions); "" when there is one. */
    redisError: string;
  }
}

/**
 * Finds or starts Redis once per run. Without one, only the tests that need Redis fail (with the
 * install instructions from `inject("redisError")`); everything else still runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const url = await ensureRedis();
    project.provide("redisUrl", url);
    project.provide("redisError", "");
  } catch (err) {
    project.provide("redisUrl", "");
    project.provide("redisError", (err as Error).message);
  }
  return stopStartedRedis;
}
