import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createStore } from "@/lib/store";
import { finishedJob, startAppHarness, type AppHarness } from "@/test/support/app-harness";

/**
 * A stranger without a cookie, sending a new X-Forwarded-For each time, against POST /api/jobs
 * over real HTTP: the per-network limit counts the connection's address, so at most the limit of
 * jobs is made, and the refused requests leave the store exactly as it was.
 */

let app: AppHarness | undefined;
let redis: Redis | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  if (redis) {
    const keys = await redis.keys("p2v-test:refused:*");
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    redis = undefined;
  }
});

const FORM = { prompt: "a paper boat on a rainy street", style: "anime", model: "local/preview" };

function post(i: number): Promise<Response> {
  return fetch(`${app!.origin}/api/jobs`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    },
    body: JSON.stringify(FORM),
  });
}

/** Sends `count` cookie-less requests, a few at a time; the statuses in order. */
async function flood(from: number, count: number): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = from; i < from + count; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, from + count - i) }, (_, k) => post(i + k)));
    out.push(...batch);
  }
  return out;
}

/** Every file under the data directory with its contents' size. */
async function files(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = (await readFile(file)).length;
  }
  return out;
}

async function redisContents(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await redis!.keys(`${prefix}*`)) {
    const type = await redis!.type(key);
    out[key] = type === "string" ? `string:${await redis!.get(key)}` : type;
  }
  return out;
}

async function expectLimitHolds(measure: () => Promise<unknown>): Promise<void> {
  const [first] = await flood(0, 1);
  expect(first!.status).toBe(201);
  const { id } = (await first!.json()) as { id: string };
  await finishedJob(app!, id, 60_000);

  const before = await measure();
  const refused = await flood(1, 1000);
  const statuses = refused.map((r) => r.status);
  expect(statuses.filter((s) => s !== 429)).toEqual([]);
  const sample = refused[999]!;
  expect(Number(sample.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await sample.json()) as { error: { message: string } }).error.message).toMatch(
    /^Your network has made its 1 video for the hour; you can make another in .+\.$/,
  );
  // One job in all, and nothing else written: no per-browser counter, no owner, no job.
  expect((await app!.store.listRecent(50)).map((j) => j.id)).toEqual([id]);
  expect(await measure()).toEqual(before);
}

describe("refused cookie-less requests", () => {
  it("make at most the per-network limit of jobs and leave the embedded store's files as they were", async () => {
    app = await startAppHarness({ env: { RATE_LIMIT_PER_IP_PER_HOUR: "1" } });
    await expectLimitHolds(() => files(app!.dataDir));
  }, 180_000);

  it("leave the Redis store's keys as they were", async () => {
    const url = inject("redisUrl");
    if (!url) throw new Error(inject("redisError"));
    const prefix = `p2v-test:refused:${randomBytes(6).toString("hex")}:`;
    redis = new Redis(url);
    app = await startAppHarness({
      env: { RATE_LIMIT_PER_IP_PER_HOUR: "1" },
      store: () => createStore({ kind: "redis", url }, { prefix, retentionDays: 30 }),
    });
    await expectLimitHolds(() => redisContents(prefix));
  }, 180_000);
});
