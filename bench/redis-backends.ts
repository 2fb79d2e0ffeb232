import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { ensureRedis, stopStartedRedis } from "../test/support/redis";
import { startUpstashRestServer, type UpstashRestServer } from "../test/support/upstash-rest-server";

export type BenchRedis = {
  url: string;
  /** Store options: keys under a prefix of this run's own, kept a day at most. */
  opts: { prefix: string; retentionDays: number };
  /** Deletes every key of this run. */
  dropKeys(): Promise<void>;
  /** Runs `measure` with an Upstash REST emulator in front of the same Redis, closed afterwards. */
  withUpstash<T>(measure: (rest: UpstashRestServer) => Promise<T>): Promise<T>;
};

/**
 * Runs a bench's Redis and Upstash measurements against a local Redis (started when none is
 * running, and stopped again), under a key prefix of their own (`label` and a random part) that is
 * cleared at the end, whatever happened.
 */
export async function withBenchRedis<T>(label: string, run: (redis: BenchRedis) => Promise<T>): Promise<T> {
  const url = await ensureRedis();
  const prefix = `${label}${randomBytes(4).toString("hex")}:`;
  const admin = new Redis(url);
  const dropKeys = async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
  };
  const withUpstash = async <R>(measure: (rest: UpstashRestServer) => Promise<R>): Promise<R> => {
    const rest = await startUpstashRestServer({ redisUrl: url, token: randomBytes(12).toString("hex") });
    try {
      return await measure(rest);
    } finally {
      await rest.close();
    }
  };
  try {
    return await run({ url, opts: { prefix, retentionDays: 1 }, dropKeys, withUpstash });
  } finally {
    await dropKeys();
    admin.disconnect();
    await stopStartedRedis();
  }
}
