import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { JobStatus } from "@/lib/core/job";
import { withinCreateLimits } from "@/lib/limits/create-limits";
import { checkEnhanceLimits } from "@/lib/limits/enhance-limits";
import { ipBucket } from "@/lib/limits/ip-bucket";
import type { LimitResult, LimitsEnv } from "@/lib/limits/types";
import { formatWait } from "@/lib/limits/wait";
import { createStore } from "@/lib/store";
import type { JobStore } from "@/lib/store/types";
import { makeJob } from "@/test/support/job-factory";
import { startUpstashRestServer, type UpstashRestServer } from "@/test/support/upstash-rest-server";

const DEFAULTS: LimitsEnv = {
  RATE_LIMITS: true,
  RATE_LIMIT_PER_IP_PER_HOUR: 30,
  RATE_LIMIT_PER_BROWSER_PER_HOUR: 10,
  MAX_RUNNING_JOBS_PER_BROWSER: 2,
  MAX_QUEUED_JOBS_PER_BROWSER: 0,
  DAILY_JOB_BUDGET: 500,
  ENHANCE_LIMIT_PER_BROWSER_PER_HOUR: 20,
  ENHANCE_LIMIT_PER_IP_PER_HOUR: 60,
  ENHANCE_LIMIT_PER_SITE_PER_HOUR: 300,
};

describe("ipBucket", () => {
  it("counts IPv6 per /64 and IPv4 per address", () => {
    expect(ipBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(ipBucket("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(ipBucket("::1")).toBe("0:0:0:0::/64");
    expect(ipBucket("203.0.113.7")).toBe("203.0.113.7");
  });
});

describe("formatWait", () => {
  it("says the wait in words", () => {
    expect(formatWait(5)).toBe("less than a minute");
    expect(formatWait(60)).toBe("1 minute");
    expect(formatWait(11 * 60 + 1)).toBe("12 minutes");
    expect(formatWait(3600)).toBe("1 hour");
    expect(formatWait(3600 + 5 * 60)).toBe("1 hour and 5 minutes");
    expect(formatWait(3 * 3600)).toBe("3 hours");
  });
});

type Backend = {
  open(): Promise<JobStore>;
  /** Raw keys of the last opened store that match a glob after its prefix (Redis-backed only). */
  keys(glob: string): Promise<string[]>;
  dispose(): Promise<void>;
};

function embedded(): Backend {
  let root = "";
  let n = 0;
  return {
    async open() {
      root ||= await mkdtemp(path.join(tmpdir(), "p2v-limits-"));
      return createStore({ kind: "embedded", dir: path.join(root, String(n++)) }, { retentionDays: 30 });
    },
    /** The counters in the last opened store's `counters/` files whose key matches the glob (only `*` is special). */
    async keys(glob) {
      const folder = path.join(root, String(n - 1), "counters");
      const names = (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
      const keys = await Promise.all(
        names.map(async (f) => (JSON.parse(await readFile(path.join(folder, f), "utf8")) as { key: string }).key),
      );
      const re = new RegExp(
        `^${glob
          .split("*")
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      );
      return keys.filter((k) => re.test(`count:${k}`));
    },
    dispose: () => (root ? rm(root, { recursive: true, force: true }) : Promise.resolve()),
  };
}

/** Redis over TCP, or the same Redis behind the Upstash REST emulator. */
function redis(kind: "redis" | "upstash"): Backend {
  const runPrefix = `p2v-test:limits:${randomBytes(6).toString("hex")}:`;
  let n = 0;
  let rest: UpstashRestServer | null = null;
  let client: Redis | null = null;
  const url = () => {
    const u = inject("redisUrl");
    if (!u) throw new Error(inject("redisError"));
    return u;
  };
  const conn = () => (client ??= new Redis(url()));
  return {
    async open() {
      const opts = { prefix: `${runPrefix}${n++}:`, retentionDays: 30 };
      if (kind === "redis") return createStore({ kind: "redis", url: url() }, opts);
      rest ??= await startUpstashRestServer({ redisUrl: url(), token: randomBytes(12).toString("hex") });
      return createStore({ kind: "upstash", url: rest.url, token: rest.token }, opts);
    },
    keys: (glob) => conn().keys(`${runPrefix}${n - 1}:${glob}`),
    async dispose() {
      await rest?.close();
      if (!inject("redisUrl")) return;
      let cursor = "0";
      do {
        const [next, keys] = await conn().scan(cursor, "MATCH", `${runPrefix}*`, "COUNT", 500);
        if (keys.length) await conn().del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await conn().quit();
    },
  };
}

function suite(name: string, backend: () => Backend): void {
  describe(`spend limits on the ${name} store`, () => {
    let b: Backend;
    let store: JobStore;
    beforeAll(() => {
      b = backend();
    });
    beforeEach(async () => {
      store = await b.open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await b.dispose();
    });

    const input = (over: Partial<LimitsEnv> = {}, who: { ip?: string; ownerId?: string } = {}) => ({
      ip: who.ip ?? "203.0.113.7",
      ownerId: who.ownerId ?? "owner-a",
      store,
      now: Date.now(),
      env: { ...DEFAULTS, ...over },
    });

    /** One job creation through the limits, storing nothing. */
    const check = async (
      over: Partial<LimitsEnv> = {},
      who: { ip?: string; ownerId?: string } = {},
    ): Promise<LimitResult> => {
      const result = await withinCreateLimits(input(over, who), async () => undefined);
      return result.ok ? { ok: true } : result;
    };

    it("refuses the 11th job of a browser in an hour, saying when to retry", async () => {
      for (let i = 0; i < 10; i++) expect(await check()).toEqual({ ok: true });
      const refused = await check();
      expect(refused).toMatchObject({ ok: false, reason: "browser" });
      if (refused.ok) throw new Error("unreachable");
      // Until the window ends, an hour after the first job.
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
      expect(refused.retryAfterSeconds).toBeGreaterThan(3000);
      expect(refused.message).toMatch(
        /^This browser has made its 10 videos for the hour; you can make another in (.+ minutes?|1 hour|less than a minute)\.$/,
      );
      // Another browser on another network is not affected.
      expect(await check({}, { ownerId: "owner-b", ip: "198.51.100.1" })).toEqual({ ok: true });
      // The counting is the store's own: one counter per browser.
      expect(await b.keys("count:limit:browser:owner-a")).toHaveLength(1);
    });

    it("lets exactly the limit through when requests race", async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => check({ MAX_RUNNING_JOBS_PER_BROWSER: 0 })));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      expect(results.filter((r) => !r.ok && r.reason === "browser")).toHaveLength(15);
    });

    it("limits a network across browsers, and a refusal takes no other counter", async () => {
      const env = { RATE_LIMIT_PER_IP_PER_HOUR: 3, RATE_LIMIT_PER_BROWSER_PER_HOUR: 2 };
      expect(await check(env, { ownerId: "a" })).toEqual({ ok: true });
      expect(await check(env, { ownerId: "a" })).toEqual({ ok: true });
      // Refused by the browser limit: the network's counter must not move.
      expect(await check(env, { ownerId: "a" })).toMatchObject({ ok: false, reason: "browser" });
      expect(await check(env, { ownerId: "b" })).toEqual({ ok: true });
      const refused = await check(env, { ownerId: "c" });
      expect(refused).toMatchObject({ ok: false, reason: "ip" });
      if (refused.ok) throw new Error("unreachable");
      expect(refused.message).toMatch(/^Your network has made its 3 videos for the hour; you can make another in /);
      // Refused by the network limit: browser c's counter must not move either.
      expect(await check(env, { ownerId: "c", ip: "198.51.100.1" })).toEqual({ ok: true });
      expect(await check(env, { ownerId: "c", ip: "198.51.100.1" })).toEqual({ ok: true });
      expect(await check(env, { ownerId: "c", ip: "198.51.100.1" })).toMatchObject({ ok: false, reason: "browser" });
    });

    it("counts an IPv6 /64 as one network, and skips the network limit for an unknown address", async () => {
      const env = { RATE_LIMIT_PER_IP_PER_HOUR: 2, RATE_LIMIT_PER_BROWSER_PER_HOUR: 0 };
      expect(await check(env, { ip: "2001:db8:0:1::1" })).toEqual({ ok: true });
      expect(await check(env, { ip: "2001:db8:0:1::2" })).toEqual({ ok: true });
      expect(await check(env, { ip: "2001:db8:0:1:ffff::3" })).toMatchObject({ ok: false, reason: "ip" });
      for (let i = 0; i < 5; i++) expect(await check(env, { ip: "unknown" })).toEqual({ ok: true });
    });

    it("caps the jobs running at once per browser, ignoring finished and long-lost ones", async () => {
      const env = { RATE_LIMIT_PER_BROWSER_PER_HOUR: 3 };
      const add = (status: JobStatus, createdAt = Date.now()) => {
        const job = makeJob({ ownerId: "owner-a", status, createdAt });
        return store.create(job).then(() => job);
      };
      await add("succeeded");
      await add("failed");
      await add("processing", Date.now() - 3 * 60 * 60 * 1000);
      const first = await add("processing");
      await add("starting");
      await add("queued");
      // Three open jobs: refused, as many times as asked, without using the hourly allowance.
      for (let i = 0; i < 5; i++) {
        const refused = await check(env);
        expect(refused).toMatchObject({ ok: false, reason: "running", retryAfterSeconds: 30 });
        if (!refused.ok)
          expect(refused.message).toBe(
            "You already have 3 videos being made or waiting in line; you can start another as soon as one of them finishes.",
          );
      }
      expect(await check(env, { ownerId: "owner-b" })).toEqual({ ok: true });

      const open = (await store.listByOwner("owner-a", { limit: 50 })).jobs.filter((j) =>
        ["queued", "starting"].includes(j.status),
      );
      for (const job of [first, ...open]) await store.update(job.id, (j) => ({ ...j, status: "succeeded" }));
      for (let i = 0; i < 3; i++) expect(await check(env)).toEqual({ ok: true });
      expect(await check(env)).toMatchObject({ ok: false, reason: "browser" });
    });

    it("starts exactly one of several simultaneous jobs when one may run at a time", async () => {
      const created: string[] = [];
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          withinCreateLimits(input({ MAX_RUNNING_JOBS_PER_BROWSER: 1 }), async () => {
            const job = makeJob({ ownerId: "owner-a", status: "queued" });
            await store.create(job);
            created.push(job.id);
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === "running")).toHaveLength(7);
      expect(created).toHaveLength(1);
      expect((await store.listByOwner("owner-a", { limit: 50 })).jobs).toHaveLength(1);
      // The seven refusals gave their hourly counts back: nine more jobs fit in the hour once it ends.
      await store.update(created[0]!, (j) => ({ ...j, status: "succeeded" }));
      for (let i = 0; i < 9; i++) expect(await check({ MAX_RUNNING_JOBS_PER_BROWSER: 0 })).toEqual({ ok: true });
      expect(await check({ MAX_RUNNING_JOBS_PER_BROWSER: 0 })).toMatchObject({ ok: false, reason: "browser" });
    });

    it("stops everyone when the daily budget is spent, until midnight UTC", async () => {
      const env = { DAILY_JOB_BUDGET: 3 };
      for (let i = 0; i < 3; i++)
        expect(await check(env, { ownerId: `o${i}`, ip: `192.0.2.${i}` })).toEqual({ ok: true });
      const now = Date.now();
      const refused = await check(env, { ownerId: "o9", ip: "192.0.2.9" });
      expect(refused).toMatchObject({ ok: false, reason: "budget" });
      if (refused.ok) throw new Error("unreachable");
      const midnight = Math.ceil((86_400_000 - (now % 86_400_000)) / 1000);
      expect(Math.abs(refused.retryAfterSeconds - midnight)).toBeLessThanOrEqual(2);
      expect(refused.message).toMatch(
        /^This site has made all 3 videos it can make today; you can make another in .+ \(at midnight UTC\)\.$/,
      );
      // The refusal took nothing: o9 still has its whole hourly allowance once the budget allows.
      for (let i = 0; i < 10; i++) expect(await check({}, { ownerId: "o9", ip: "192.0.2.9" })).toEqual({ ok: true });
    });

    it("gives the counters back when the job cannot be stored", async () => {
      const env = { RATE_LIMIT_PER_BROWSER_PER_HOUR: 1 };
      await expect(
        withinCreateLimits(input(env), async () => {
          throw new Error("disk full");
        }),
      ).rejects.toThrow("disk full");
      expect(await check(env)).toEqual({ ok: true });
      expect(await check(env)).toMatchObject({ ok: false, reason: "browser" });
    });

    it("is off with RATE_LIMITS=off, and a limit of 0 means unlimited", async () => {
      for (let i = 0; i < 40; i++) {
        expect(await check({ RATE_LIMITS: false, DAILY_JOB_BUDGET: 1, MAX_RUNNING_JOBS_PER_BROWSER: 1 })).toEqual({
          ok: true,
        });
      }
      // Nothing was counted while off.
      const zero = {
        RATE_LIMIT_PER_IP_PER_HOUR: 0,
        RATE_LIMIT_PER_BROWSER_PER_HOUR: 0,
        DAILY_JOB_BUDGET: 0,
        MAX_RUNNING_JOBS_PER_BROWSER: 0,
      };
      await store.create(makeJob({ ownerId: "owner-a", status: "processing" }));
      for (let i = 0; i < 40; i++) expect(await check(zero)).toEqual({ ok: true });
      expect(await check({ MAX_RUNNING_JOBS_PER_BROWSER: 0 })).toEqual({ ok: true });
    });

    it("limits Enhance per browser and per network, apart from jobs", async () => {
      const env = { ENHANCE_LIMIT_PER_BROWSER_PER_HOUR: 3, ENHANCE_LIMIT_PER_IP_PER_HOUR: 4 };
      const enhance = (who: { ip?: string; ownerId?: string } = {}) => checkEnhanceLimits(input(env, who));
      for (let i = 0; i < 3; i++) expect(await enhance()).toEqual({ ok: true });
      const refused = await enhance();
      expect(refused).toMatchObject({ ok: false, reason: "browser" });
      if (refused.ok) throw new Error("unreachable");
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
      expect(refused.retryAfterSeconds).toBeGreaterThan(3000);
      expect(refused.message).toMatch(
        /^This browser has used Enhance 3 times this hour, as often as it can; you can use it again in .+\.$/,
      );
      expect(await enhance({ ownerId: "owner-b" })).toEqual({ ok: true });
      expect(await enhance({ ownerId: "owner-c" })).toMatchObject({ ok: false, reason: "ip" });
      // Jobs have their own counters.
      expect(await check(env)).toEqual({ ok: true });
      for (let i = 0; i < 10; i++)
        expect(await checkEnhanceLimits(input({ ...env, RATE_LIMITS: false }))).toEqual({ ok: true });
    });

    it("caps Enhance for the whole site, across browsers and networks, saying when to retry", async () => {
      const env = { ENHANCE_LIMIT_PER_SITE_PER_HOUR: 3 };
      for (let i = 0; i < 3; i++)
        expect(await checkEnhanceLimits(input(env, { ownerId: `o${i}`, ip: `192.0.2.${i}` }))).toEqual({ ok: true });
      const refused = await checkEnhanceLimits(input(env, { ownerId: "o9", ip: "192.0.2.9" }));
      expect(refused).toMatchObject({ ok: false, reason: "site" });
      if (refused.ok) throw new Error("unreachable");
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
      expect(refused.message).toMatch(
        /^Enhance has been used 3 times on this site this hour, as often as it can be; you can use it again in .+\.$/,
      );
      // The refusal counted nothing for that browser or network.
      expect(await b.keys("count:limit:enhance:browser:o9")).toEqual([]);
      expect(await b.keys("count:limit:enhance:ip:192.0.2.9")).toEqual([]);
    });

    it("leaves no counter behind for a new browser or network it refuses", async () => {
      const env = { RATE_LIMIT_PER_IP_PER_HOUR: 1, DAILY_JOB_BUDGET: 2 };
      expect(await check(env, { ownerId: "first", ip: "192.0.2.1" })).toEqual({ ok: true });
      // Refused by its network: no counter for the new browser.
      for (let i = 0; i < 20; i++)
        expect(await check(env, { ownerId: `new-${i}`, ip: "192.0.2.1" })).toMatchObject({ ok: false, reason: "ip" });
      expect(await b.keys("count:limit:browser:new-*")).toEqual([]);
      expect(await check(env, { ownerId: "second", ip: "192.0.2.2" })).toEqual({ ok: true });
      // Refused by the day's budget: no counter for the new browser nor for its new network.
      for (let i = 0; i < 20; i++)
        expect(await check(env, { ownerId: `late-${i}`, ip: `198.51.100.${i}` })).toMatchObject({
          ok: false,
          reason: "budget",
        });
      expect(await b.keys("count:limit:browser:late-*")).toEqual([]);
      expect(await b.keys("count:limit:ip:198.51.100.*")).toEqual([]);
      expect((await b.keys("count:limit:*")).sort()).toHaveLength(5);
    });
  });
}

suite("embedded", embedded);
suite("Redis (TCP)", () => redis("redis"));
suite("Upstash REST", () => redis("upstash"));
