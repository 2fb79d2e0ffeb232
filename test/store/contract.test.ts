import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis as UpstashClient } from "@upstash/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { jobSchema, type Job } from "@/lib/core/job";
import { log } from "@/lib/log";
import { createStore } from "@/lib/store";
import { StoreUnavailableError, UnreadableRecordError, type JobStore } from "@/lib/store/types";
import { makeJob, newJobId } from "@/test/support/job-factory";
import { findRedisServer, freePort } from "@/test/support/redis";
import { startUpstashRestServer, type UpstashRestServer } from "@/test/support/upstash-rest-server";
import { until, waitFor } from "@/test/support/wait-for";

const DAY = 86_400_000;

type Harness = {
  /** Gives the next test its own empty namespace (directory or key prefix). */
  newNamespace(): Promise<void>;
  /** Another store instance on the current namespace: a second server, or the app after a restart. */
  open(): JobStore;
  /** Whether two live instances may share a namespace (embedded: one process only). */
  sharedAcrossInstances: boolean;
  dispose(): Promise<void>;
};

function redisUrl(): string {
  const url = inject("redisUrl");
  if (!url) throw new Error(inject("redisError"));
  return url;
}

async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
}

function redisHarness(kind: "redis" | "upstash"): () => Promise<Harness> {
  return async () => {
    const url = redisUrl();
    const runPrefix = `p2v-test:${randomBytes(6).toString("hex")}:`;
    const rest: UpstashRestServer | null =
      kind === "upstash"
        ? await startUpstashRestServer({ redisUrl: url, token: randomBytes(12).toString("hex") })
        : null;
    let n = 0;
    let prefix = runPrefix;
    return {
      sharedAcrossInstances: true,
      async newNamespace() {
        prefix = `${runPrefix}${n++}:`;
      },
      open() {
        const opts = { prefix, retentionDays: 30 };
        return rest
          ? createStore({ kind: "upstash", url: rest.url, token: rest.token }, opts)
          : createStore({ kind: "redis", url }, opts);
      },
      async dispose() {
        await rest?.close();
        await deleteKeys(url, `${runPrefix}*`);
      },
    };
  };
}

async function embeddedHarness(): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), "p2v-store-"));
  let dir = root;
  let n = 0;
  return {
    sharedAcrossInstances: false,
    async newNamespace() {
      dir = path.join(root, String(n++));
    },
    open: () => createStore({ kind: "embedded", dir }, { retentionDays: 30 }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

const byNewest = (a: Job, b: Job) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);

/** A share as the app makes one: a fresh 32-character token. */
function newShare() {
  const token = randomBytes(24).toString("base64url");
  return { token, sharedAt: Date.now(), videoUrl: `/api/shared/${token}/video.mp4`, posterUrl: null };
}

function contract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`JobStore contract: ${name}`, () => {
    let h: Harness;
    let store: JobStore;
    const opened: JobStore[] = [];
    const open = () => {
      const s = h.open();
      opened.push(s);
      return s;
    };

    beforeAll(async () => {
      h = await makeHarness();
    });
    beforeEach(async () => {
      await h.newNamespace();
      store = open();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await h?.dispose();
    });

    it("creates and reads back an equal, schema-valid record", async () => {
      const job = makeJob({ prompt: 'Ein Fuchs 🦊 im Schnee, café au lait, "quoted" \\ and\nnewline' });
      await store.create(job);
      const got = await store.get(job.id);
      expect(got).toEqual(job);
      expect(jobSchema.parse(got)).toEqual(job);
      expect(await store.get(newJobId())).toBeNull();
      expect(store.stats.commands).toBeGreaterThan(0);
    });

    it("refuses to create an id that exists", async () => {
      const job = makeJob();
      await store.create(job);
      await expect(store.create({ ...job, message: "other" })).rejects.toThrow();
      expect((await store.get(job.id))?.message).toBe(job.message);
    });

    it("updates: bumps seq and updatedAt, and a null from fn writes nothing", async () => {
      const job = makeJob({ updatedAt: Date.now() - 5000 });
      await store.create(job);
      const result = await store.update(job.id, (j) => ({ ...j, message: "Generating", seq: 99, id: newJobId() }));
      expect(result?.changed).toBe(true);
      expect(result?.job).toMatchObject({ id: job.id, seq: 1, message: "Generating" });
      expect(result!.job.updatedAt).toBeGreaterThan(job.updatedAt);
      expect(await store.get(job.id)).toEqual(result?.job);

      const unchanged = await store.update(job.id, () => null);
      expect(unchanged).toEqual({ job: result?.job, changed: false });
      expect(await store.get(job.id)).toEqual(result?.job);
      expect(await store.update(newJobId(), (j) => j)).toBeNull();
    });

    it("loses nothing under 50 concurrent updates", async () => {
      const job = makeJob({ progress: 0, message: "" });
      await store.create(job);
      const other = h.sharedAcrossInstances ? open() : store;
      const bump = (j: Job) => ({ ...j, progress: (j.progress ?? 0) + 1, message: `${j.message}x` });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? other : store).update(job.id, bump)),
      );
      expect(results.every((r) => r?.changed)).toBe(true);
      const final = await store.get(job.id);
      expect(final).toMatchObject({ seq: 50, progress: 50, message: "x".repeat(50) });
      expect(new Set(results.map((r) => r?.job.seq)).size).toBe(50);
    });

    it("deletes a job and its index entries", async () => {
      const job = makeJob({ ownerId: "deleter" });
      await store.create(job);
      expect(await store.delete(job.id)).toBe(true);
      expect(await store.get(job.id)).toBeNull();
      expect(await store.delete(job.id)).toBe(false);
      expect((await store.listByOwner("deleter", { limit: 10 })).jobs).toEqual([]);
      expect(await store.listRecent(10)).toEqual([]);
    });

    it("finds a shared job by its share token, from any instance, only while that share lasts", async () => {
      const job = makeJob({ status: "succeeded", stage: "done" });
      await store.create(job);
      const other = h.sharedAcrossInstances ? open() : store;
      const first = newShare();
      expect(await store.findShared(first.token)).toBeNull();

      const shared = await store.update(job.id, (j) => ({ ...j, share: first }));
      expect(await other.findShared(first.token)).toEqual(shared?.job);
      // Unrelated changes keep the share and its index.
      const touched = await store.update(job.id, (j) => ({ ...j, message: "still shared" }));
      expect(await other.findShared(first.token)).toEqual(touched?.job);

      // Shared again under a new token: the old token finds nothing.
      const second = newShare();
      await store.update(job.id, (j) => ({ ...j, share: second }));
      expect(await other.findShared(first.token)).toBeNull();
      expect((await other.findShared(second.token))?.id).toBe(job.id);

      // Unshared: nothing, at once.
      await store.update(job.id, (j) => ({ ...j, share: null }));
      expect(await other.findShared(second.token)).toBeNull();

      // A token that was never minted, or is malformed, finds nothing either.
      expect(await store.findShared(newShare().token)).toBeNull();
      expect(await store.findShared(job.id)).toBeNull();
      expect(await store.findShared("../../etc/passwd")).toBeNull();
    });

    it("forgets a share token when its job is deleted, swept, or written with a share at creation", async () => {
      const share = newShare();
      const job = makeJob({ status: "succeeded", stage: "done", share });
      await store.create(job);
      expect(await store.findShared(share.token)).toEqual(job);
      expect(await store.delete(job.id)).toBe(true);
      expect(await store.findShared(share.token)).toBeNull();

      const now = Date.now();
      const oldShare = newShare();
      const old = makeJob({ createdAt: now - 31 * DAY });
      await store.create(old);
      await store.update(old.id, (j) => ({ ...j, share: oldShare }));
      expect(await store.sweep(now)).toBe(1);
      expect(await store.findShared(oldShare.token)).toBeNull();
    });

    it("lists an owner's jobs newest first, paging by cursor without gaps or duplicates", async () => {
      const base = Date.now() - 60_000;
      const mine = [0, 1, 2, 3, 4, 5, 6, 6, 6].map((i) => makeJob({ ownerId: "alice", createdAt: base + i * 1000 }));
      const theirs = [0, 1, 2].map((i) => makeJob({ ownerId: "bob", createdAt: base + i * 1000 + 500 }));
      for (const job of [...mine, ...theirs].sort(() => Math.random() - 0.5)) await store.create(job);

      const seen: Job[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: Awaited<ReturnType<JobStore["listByOwner"]>> = await store.listByOwner("alice", {
          limit: 4,
          cursor,
        });
        expect(page.jobs.length).toBeLessThanOrEqual(4);
        seen.push(...page.jobs);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(cursor).toBeNull();
      expect(seen.map((j) => j.id)).toEqual([...mine].sort(byNewest).map((j) => j.id));
      const bob = await store.listByOwner("bob", { limit: 10 });
      expect(bob).toEqual({ jobs: [...theirs].sort(byNewest), nextCursor: null });
      expect(await store.listByOwner("nobody", { limit: 10 })).toEqual({ jobs: [], nextCursor: null });
    });

    it("lists recent jobs of everyone, newest first", async () => {
      const base = Date.now() - 10_000;
      const jobs = [
        makeJob({ ownerId: "a", createdAt: base }),
        makeJob({ ownerId: null, createdAt: base + 1 }),
        makeJob({ ownerId: "b", createdAt: base + 2 }),
      ];
      for (const job of jobs) await store.create(job);
      expect((await store.listRecent(10)).map((j) => j.id)).toEqual(jobs.map((j) => j.id).reverse());
      expect((await store.listRecent(2)).map((j) => j.id)).toEqual([jobs[2]!.id, jobs[1]!.id]);
    });

    it("lists unfinished jobs from its index: a job leaves it when it ends or is deleted, and it survives a restart", async () => {
      const base = Date.now() - 10_000;
      const queued = makeJob({ ownerId: "a", createdAt: base });
      const running = makeJob({ ownerId: null, createdAt: base + 1, status: "processing", stage: "generating" });
      const ended = makeJob({ ownerId: "b", createdAt: base + 2, status: "succeeded", stage: "done" });
      const doomed = makeJob({ ownerId: "b", createdAt: base + 3 });
      for (const job of [queued, running, ended, doomed]) await store.create(job);
      const ids = async (s: JobStore, limit = 10) => (await s.listUnfinished(limit)).map((j) => j.id);
      expect(await ids(store)).toEqual([doomed.id, running.id, queued.id]);
      expect(await ids(store, 1)).toEqual([doomed.id]);

      await store.update(running.id, (j) => ({ ...j, status: "failed", stage: "failed", error: "x" }));
      await store.update(queued.id, (j) => ({ ...j, status: "processing", message: "still going" }));
      expect(await store.delete(doomed.id)).toBe(true);
      expect(await ids(store)).toEqual([queued.id]);

      await store.close();
      expect(await ids(open())).toEqual([queued.id]);
    });

    it("setOnce sets once, until forgotten", async () => {
      expect(await store.setOnce("webhook:1", 60)).toBe(true);
      expect(await store.setOnce("webhook:1", 60)).toBe(false);
      expect(await store.setOnce("webhook:2", 60)).toBe(true);
      await store.forget("webhook:1");
      expect(await store.setOnce("webhook:1", 60)).toBe(true);
    });

    it("counts in a window, resets after it, and decrements never below zero", async () => {
      expect(await store.increment("ip:1", 3600)).toEqual({ count: 1, resetInSeconds: 3600 });
      const second = await store.increment("ip:1", 3600);
      expect(second.count).toBe(2);
      expect(second.resetInSeconds).toBeGreaterThan(3590);
      expect(second.resetInSeconds).toBeLessThanOrEqual(3600);
      expect((await store.increment("ip:2", 3600)).count).toBe(1);

      await store.decrement("ip:1");
      expect((await store.increment("ip:1", 3600)).count).toBe(2);
      await store.decrement("fresh");
      await store.decrement("fresh");
      expect((await store.increment("fresh", 3600)).count).toBe(1);

      await store.increment("short", 1);
      expect((await store.increment("short", 1)).count).toBe(2);
      // Once its window has passed, the counter starts again at 1.
      expect(
        await waitFor(
          () => store.increment("short", 1),
          (c) => c.count === 1,
        ),
      ).toEqual({ count: 1, resetInSeconds: 1 });
    });

    it("getOrCreateSecret returns the first stored value to everyone", async () => {
      const values = await Promise.all(["a", "b", "c"].map((v) => store.getOrCreateSecret("session", v)));
      expect(new Set(values).size).toBe(1);
      expect(await store.getOrCreateSecret("session", "z")).toBe(values[0]);
      expect(await store.getOrCreateSecret("other", "z")).toBe("z");
    });

    it("notifies subscribers of every change until they unsubscribe", async () => {
      const job = makeJob();
      await store.create(job);
      const watchers = h.sharedAcrossInstances ? [store, open()] : [store];
      const heard = watchers.map(() => [] as Job[]);
      const stops = watchers.map((s, i) => s.subscribe(job.id, (j) => heard[i]!.push(j)));
      // A subscription reaches the server asynchronously: change the job until every watcher has
      // heard a change, then wait for the last one, and start from an empty history.
      let warm = 0;
      await until(async () => {
        warm = (await store.update(job.id, (j) => ({ ...j, message: "warming up" })))!.job.seq;
        return heard.every((list) => list.length > 0);
      });
      await until(() => heard.every((list) => list.at(-1)?.seq === warm));
      for (const list of heard) list.length = 0;

      const first = await store.update(job.id, (j) => ({ ...j, message: "one" }));
      await until(() => heard.every((list) => list.length === 1));
      for (const list of heard) expect(list).toEqual([first?.job]);

      // After unsubscribing: a listener that stays on each instance hears the next change, and
      // the ones that left do not (an instance hands a change to all its listeners at once).
      const control = watchers.map(() => [] as Job[]);
      const controls = watchers.map((s, i) => s.subscribe(job.id, (j) => control[i]!.push(j)));
      stops.forEach((stop) => stop());
      await until(async () => {
        await store.update(job.id, (j) => ({ ...j, message: "two" }));
        return control.every((list) => list.length > 0);
      });
      controls.forEach((stop) => stop());
      expect(heard.map((list) => list.length)).toEqual(watchers.map(() => 1));
    });

    it("sweeps jobs older than the retention period", async () => {
      const now = Date.now();
      const old = makeJob({ ownerId: "o", createdAt: now - 31 * DAY });
      const fresh = makeJob({ ownerId: "o", createdAt: now - 29 * DAY });
      await store.create(old);
      await store.create(fresh);
      expect(await store.sweep(now)).toBe(1);
      expect(await store.get(old.id)).toBeNull();
      expect(await store.get(fresh.id)).toEqual(fresh);
      expect((await store.listRecent(10)).map((j) => j.id)).toEqual([fresh.id]);
      expect((await store.listByOwner("o", { limit: 10 })).jobs.map((j) => j.id)).toEqual([fresh.id]);
      expect(await store.sweep(now)).toBe(0);
    });

    describe("queue", () => {
      const local = (jobId: string, ownerId: string) => ({ jobId, ownerId, engine: "local" });
      /** Claims one slot at a time, freeing it after: the order in which the line is served. */
      async function serveAll(q: JobStore["queue"], now: number): Promise<string[]> {
        const order: string[] = [];
        for (;;) {
          const [id, ...rest] = await q.claim({ maxRunning: 1, perOwner: 0 }, now);
          expect(rest).toEqual([]);
          if (!id) return order;
          order.push(id);
          expect(await q.release(id, now, true)).toBe(true);
        }
      }

      it("serves owners in turn and each owner's jobs in the order they came", async () => {
        const q = store.queue;
        const now = Date.now();
        for (const id of ["a1", "a2", "a3", "a4", "a5"]) expect(await q.enqueue(local(id, "A"), now)).toBe(true);
        expect(await q.claim({ maxRunning: 1, perOwner: 0 }, now)).toEqual(["a1"]);
        // B comes after A's five: its one job is served before A's third.
        await q.enqueue(local("b1", "B"), now);
        await q.enqueue(local("c1", "C"), now);
        await q.enqueue(local("c2", "C"), now);
        expect((await q.snapshot(now)).waiting).toEqual(["b1", "c1", "a2", "c2", "a3", "a4", "a5"]);
        await q.release("a1", now, true);
        expect(await serveAll(q, now)).toEqual(["b1", "c1", "a2", "c2", "a3", "a4", "a5"]);
      });

      it("admits no more than the site's cap and each owner's share, and a freed slot goes to the next", async () => {
        const q = store.queue;
        const now = Date.now();
        for (const id of ["a1", "a2", "a3"]) await q.enqueue(local(id, "A"), now);
        for (const id of ["b1", "b2"]) await q.enqueue(local(id, "B"), now);
        const limits = { maxRunning: 3, perOwner: 1 };
        expect(await q.claim(limits, now)).toEqual(["a1", "b1"]);
        expect(await q.claim(limits, now)).toEqual([]);
        await q.release("b1", now, true);
        expect(await q.claim(limits, now)).toEqual(["b2"]);
        await q.release("a1", now, true);
        expect(await q.claim({ maxRunning: 2, perOwner: 0 }, now)).toEqual(["a2"]);
        expect(await q.claim({ maxRunning: 2, perOwner: 0 }, now)).toEqual([]);
        const snap = await q.snapshot(now);
        expect(snap.waiting).toEqual(["a3"]);
        expect(snap.running.map((r) => r.jobId).sort()).toEqual(["a2", "b2"]);
      });

      it("enqueues a job once, and a released waiting job leaves the line at once", async () => {
        const q = store.queue;
        const now = Date.now();
        expect(await q.enqueue(local("a1", "A"), now)).toBe(true);
        expect(await q.enqueue(local("a1", "A"), now)).toBe(false);
        await q.enqueue(local("a2", "A"), now);
        expect(await q.release("a1", now, false)).toBe(true);
        expect(await q.release("a1", now, false)).toBe(false);
        expect(await q.release("nobody", now, false)).toBe(false);
        expect((await q.snapshot(now)).waiting).toEqual(["a2"]);
        expect(await q.claim({ maxRunning: 0, perOwner: 0 }, now)).toEqual(["a2"]);
        expect(await q.enqueue(local("a2", "A"), now)).toBe(false);
      });

      it("puts a job back at the head and holds its engine until the given time", async () => {
        const q = store.queue;
        const now = Date.now();
        await q.enqueue({ jobId: "r1", ownerId: "A", engine: "replicate" }, now);
        await q.enqueue({ jobId: "r2", ownerId: "B", engine: "replicate" }, now);
        await q.enqueue(local("l1", "C"), now);
        const limits = { maxRunning: 1, perOwner: 0 };
        expect(await q.claim(limits, now)).toEqual(["r1"]);
        expect(await q.requeue("r1", "replicate", now + 10_000)).toBe(true);
        expect(await q.requeue("r1", "replicate", now + 10_000)).toBe(false);
        expect((await q.snapshot(now)).waiting).toEqual(["r1", "r2", "l1"]);
        expect((await q.snapshot(now)).holds).toEqual({ replicate: now + 10_000 });
        // Replicate is held: the local job goes meanwhile, the Replicate jobs keep their places.
        expect(await q.claim(limits, now + 5_000)).toEqual(["l1"]);
        await q.release("l1", now + 5_000, true);
        expect(await q.claim({ maxRunning: 5, perOwner: 0 }, now + 9_999)).toEqual([]);
        expect(await q.claim(limits, now + 10_000)).toEqual(["r1"]);
        expect((await q.snapshot(now + 10_000)).holds).toEqual({});
      });

      it("averages how long finished jobs held their slot", async () => {
        const q = store.queue;
        const now = Date.now();
        expect((await q.snapshot(now)).averageRunMs).toBeNull();
        await q.enqueue(local("a1", "A"), now);
        await q.enqueue(local("a2", "A"), now);
        await q.claim({ maxRunning: 1, perOwner: 0 }, now);
        await q.release("a1", now + 10_000, true);
        expect((await q.snapshot(now)).averageRunMs).toBe(10_000);
        await q.claim({ maxRunning: 1, perOwner: 0 }, now + 10_000);
        // Canceled: not a measure of how long a job takes.
        await q.release("a2", now + 10_500, false);
        expect((await q.snapshot(now)).averageRunMs).toBe(10_000);
      });

      it("never admits past the cap or twice under concurrent claims", async () => {
        const now = Date.now();
        for (let i = 0; i < 20; i++) await store.queue.enqueue(local(`j${i}`, `o${i % 4}`), now);
        const stores = h.sharedAcrossInstances ? [store, open(), open()] : [store];
        const claims = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            stores[i % stores.length]!.queue.claim({ maxRunning: 5, perOwner: 2 }, now),
          ),
        );
        const admitted = claims.flat();
        expect(admitted).toHaveLength(5);
        expect(new Set(admitted).size).toBe(5);
        expect((await store.queue.snapshot(now)).waiting).toHaveLength(15);
      });

      it("keeps the line across a restart", async () => {
        const now = Date.now();
        for (const id of ["a1", "a2", "b1"]) await store.queue.enqueue(local(id, id[0]!), now);
        await store.queue.claim({ maxRunning: 1, perOwner: 0 }, now);
        const before = await store.queue.snapshot(now);
        await store.close();
        opened.splice(opened.indexOf(store), 1);
        const reopened = open();
        expect(await reopened.queue.snapshot(now)).toEqual(before);
        expect(before.waiting).toEqual(["b1", "a2"]);
      });
    });

    it("keeps everything across a restart", async () => {
      const job = makeJob({ ownerId: "restart" });
      await store.create(job);
      const updated = await store.update(job.id, (j) => ({ ...j, status: "processing", stage: "generating" }));
      expect(await store.setOnce("lock", 600)).toBe(true);
      await store.increment("budget", 600);
      await store.getOrCreateSecret("key", "first");
      await store.close();

      const again = open();
      expect(await again.get(job.id)).toEqual(updated?.job);
      expect((await again.listByOwner("restart", { limit: 5 })).jobs).toEqual([updated?.job]);
      expect(await again.setOnce("lock", 600)).toBe(false);
      expect((await again.increment("budget", 600)).count).toBe(2);
      expect(await again.getOrCreateSecret("key", "second")).toBe("first");
    });
  });
}

contract("embedded", embeddedHarness);
contract("redis", redisHarness("redis"));
contract("upstash", redisHarness("upstash"));

describe("embedded store robustness", () => {
  it("skips unreadable job files when listing, and logs them", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "p2v-corrupt-"));
    const error = vi.spyOn(log, "error");
    try {
      const good = makeJob();
      await createStore({ kind: "embedded", dir }).create(good);
      await writeFile(path.join(dir, "jobs", `${newJobId()}.json`), "{ not json");
      await writeFile(path.join(dir, "jobs", `${newJobId()}.json`), JSON.stringify({ id: "x" }));
      const store = createStore({ kind: "embedded", dir });
      expect((await store.listRecent(10)).map((j) => j.id)).toEqual([good.id]);
      // A structured log line naming each unreadable file (the corrupt one is set aside: test/store/embedded-durability.test.ts).
      expect(error).toHaveBeenCalledTimes(2);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ file: expect.stringContaining(path.join(dir, "jobs")) }),
        expect.any(String),
      );
    } finally {
      error.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("an unreadable record on Redis", () => {
  it("is an error, not an absent job, and listing skips it", async () => {
    const url = redisUrl();
    const prefix = `p2v-test:unreadable:${randomBytes(6).toString("hex")}:`;
    const store = createStore({ kind: "redis", url }, { prefix, retentionDays: 30 });
    const redis = new Redis(url);
    try {
      const [bad, good] = [makeJob({ ownerId: "o" }), makeJob({ ownerId: "o" })];
      await store.create(bad);
      await store.create(good);
      await redis.hset(`${prefix}job:${bad.id}`, "data", '{"id":');
      await expect(store.get(bad.id)).rejects.toBeInstanceOf(UnreadableRecordError);
      await expect(store.update(bad.id, (j) => j)).rejects.toBeInstanceOf(UnreadableRecordError);
      expect((await store.listByOwner("o", { limit: 10 })).jobs.map((j) => j.id)).toEqual([good.id]);
      expect(await redis.hget(`${prefix}job:${bad.id}`, "data")).toBe('{"id":');
    } finally {
      await store.close();
      await redis.quit();
      await deleteKeys(url, `${prefix}*`);
    }
  });
});

describe("unreachable backends", () => {
  it.each([
    ["redis", () => createStore({ kind: "redis", url: "redis://127.0.0.1:1" })],
    ["upstash", () => createStore({ kind: "upstash", url: "http://127.0.0.1:1", token: "t" })],
  ] as const)(
    "%s: get() and ping() reject with StoreUnavailableError instead of waiting for the backend",
    async (_name, make) => {
      const store = make();
      try {
        await expect(store.get(newJobId())).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await store.close();
      }
    },
  );
});

describe("recovery", () => {
  it.skipIf(!findRedisServer())("a redis store works again once Redis comes back", async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), "p2v-recover-"));
    const store = createStore({ kind: "redis", url: `redis://127.0.0.1:${port}` }, { prefix: "recover:" });
    const server = spawn(
      findRedisServer()!,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    );
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await until(() =>
        store.ping().then(
          () => true,
          () => false,
        ),
      );
      const job = makeJob();
      await store.create(job);
      expect(await store.get(job.id)).toEqual(job);
    } finally {
      await store.close();
      server.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("upstash REST emulator", () => {
  it("rejects a wrong token with 401 and answers in base64 when asked", async () => {
    const rest = await startUpstashRestServer({ redisUrl: redisUrl(), token: "right" });
    try {
      const post = (token: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(rest.url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify(body),
        });
      expect((await post("wrong", ["PING"])).status).toBe(401);
      expect(await (await post("right", ["ECHO", "hé"])).json()).toEqual({ result: "hé" });
      const encoded = await (await post("right", ["ECHO", "hé"], { "Upstash-Encoding": "base64" })).json();
      expect(encoded).toEqual({ result: Buffer.from("hé").toString("base64") });
      const bad = await post("right", ["NOSUCHCOMMAND"]);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toHaveProperty("error");
    } finally {
      await rest.close();
    }
  });

  it("serves the subscribe stream that @upstash/redis reads, with every published message fanned out to every stream", async () => {
    const rest = await startUpstashRestServer({ redisUrl: redisUrl(), token: "right" });
    const client = new UpstashClient({
      url: rest.url,
      token: "right",
      automaticDeserialization: false,
      enableTelemetry: false,
    });
    const channel = `p2v-test:${randomBytes(4).toString("hex")}:events`;
    const heard: string[][] = [[], []];
    const subscribers = heard.map((list) => {
      const subscriber = client.subscribe<string>(channel);
      subscriber.on("message", ({ message }) => list.push(message));
      return subscriber;
    });
    try {
      await until(() => rest.streams(channel) === 2);
      // A comma and JSON in the message: only the first two commas separate the fields.
      const message = JSON.stringify({ a: "x, y", b: [1, 2] });
      // Redis has the subscription once a publish reaches a receiver.
      await waitFor(
        async () => (await client.publish(channel, "probe")) as number,
        (receivers) => receivers >= 1,
      );
      await until(() => heard.every((list) => list.includes("probe")));
      await client.publish(channel, message);
      await until(() => heard.every((list) => list.at(-1) === message));
      expect(heard.map((list) => list.filter((m) => m !== "probe"))).toEqual([[message], [message]]);
      expect(rest.commands).toBeGreaterThanOrEqual(2 + 2);
    } finally {
      await Promise.all(subscribers.map((s) => s.unsubscribe()));
      await until(() => rest.streams(channel) === 0);
      await rest.close();
    }
  });

  it("refuses a subscribe with a wrong token", async () => {
    const rest = await startUpstashRestServer({ redisUrl: redisUrl(), token: "right" });
    try {
      const res = await fetch(`${rest.url}/subscribe/ch`, {
        method: "POST",
        headers: { authorization: "Bearer wrong", accept: "text/event-stream" },
        body: "[]",
      });
      expect(res.status).toBe(401);
      expect(rest.streams()).toBe(0);
    } finally {
      await rest.close();
    }
  });
});
