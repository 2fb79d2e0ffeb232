import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Job } from "@/lib/core/job";
import { createStore } from "@/lib/store";
import type { JobStore } from "@/lib/store/types";
import { makeJob } from "@/test/support/job-factory";
import { findRedisServer, freePort, redisAnswers } from "@/test/support/redis";
import { startUpstashRestServer } from "@/test/support/upstash-rest-server";
import { until, waitFor } from "@/test/support/wait-for";

/**
 * A watcher that already holds a job must not miss a change the store's push cannot see: one
 * made before the subscription was in place, or published while the Redis subscriber connection
 * or the Upstash subscribe stream was down.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const touch = (store: JobStore, id: string, message: string) => store.update(id, (j) => ({ ...j, message }));

describe("Upstash REST (subscribe stream)", () => {
  async function twoInstances() {
    const url = inject("redisUrl");
    if (!url) throw new Error(inject("redisError"));
    const rest = await startUpstashRestServer({ redisUrl: url, token: randomBytes(12).toString("hex") });
    const prefix = `p2v-resync-${randomBytes(4).toString("hex")}:`;
    const config = { kind: "upstash" as const, url: rest.url, token: rest.token };
    const opts = { prefix, retentionDays: 1 };
    const watching = createStore(config, opts);
    const other = createStore(config, opts);
    const probe = new Redis(url);
    cleanups.push(async () => {
      await Promise.all([watching.close(), other.close()]);
      const keys = await probe.keys(`${prefix}*`);
      if (keys.length) await probe.del(...keys);
      probe.disconnect();
      await rest.close();
    });
    return { watching, other, rest, channel: (id: string) => `${prefix}job:${id}:events` };
  }

  it("sends a change made between the watcher's read and the subscription being in place", async () => {
    const { watching, other } = await twoInstances();
    const job = makeJob();
    await watching.create(job);
    // What the event stream does: read the job, then hear changes. Here the change lands after
    // the read and before the subscribe stream is confirmed, so pub/sub alone never delivers it.
    const read = (await watching.get(job.id))!;
    await touch(other, job.id, "changed after the read");
    const heard: Job[] = [];
    const stop = watching.subscribe(
      job.id,
      (j) => heard.push(j),
      () => heard.at(-1)?.seq ?? read.seq,
    );
    try {
      await until(() => heard.length > 0);
      expect(heard.map((j) => [j.seq, j.message])).toEqual([[1, "changed after the read"]]);
      // Later changes arrive over the stream, each once.
      await touch(other, job.id, "live");
      await until(() => heard.length === 2);
      expect(heard.map((j) => [j.seq, j.message])).toEqual([
        [1, "changed after the read"],
        [2, "live"],
      ]);
    } finally {
      stop();
    }
  });

  it("holds one stream per watched job per instance, shared by its watchers, and closes it when the last one leaves", async () => {
    const { watching, other, rest, channel } = await twoInstances();
    const job = makeJob();
    await watching.create(job);
    const heard: Job[][] = [[], [], []];
    const stops = heard.map((list) => watching.subscribe(job.id, (j) => list.push(j)));
    await until(() => rest.streams(channel(job.id)) === 1);
    const subscribes = rest.commands;
    await touch(other, job.id, "to everyone");
    await until(() => heard.every((list) => list.length === 1));
    expect(heard.map((list) => list[0]?.message)).toEqual(["to everyone", "to everyone", "to everyone"]);
    // The change cost its own update and nothing else: no stream was opened again.
    expect(rest.streams(channel(job.id))).toBe(1);
    expect(rest.commands - subscribes).toBeLessThanOrEqual(3);
    stops[0]!();
    stops[1]!();
    expect(rest.streams(channel(job.id))).toBe(1);
    stops[2]!();
    await until(() => rest.streams(channel(job.id)) === 0);
  });

  it("opens a dropped stream again and sends what was published while it was down", async () => {
    const { watching, other, rest, channel } = await twoInstances();
    const job = makeJob();
    await watching.create(job);
    const heard: Job[] = [];
    const stop = watching.subscribe(
      job.id,
      (j) => heard.push(j),
      () => heard.at(-1)?.seq ?? 0,
    );
    try {
      await until(() => rest.streams(channel(job.id)) === 1);
      await touch(other, job.id, "heard live");
      await until(() => heard.length === 1);

      // The stream ends, and the server takes the next subscribe only after the change below:
      // that change is published while nobody listens.
      const release = rest.dropStreams({ hold: true });
      expect(rest.streams(channel(job.id))).toBe(0);
      const missed = await touch(other, job.id, "published while nobody listened");
      expect(missed?.job.seq).toBe(2);
      release();

      await until(() => heard.length === 2);
      expect(heard.map((j) => [j.seq, j.message])).toEqual([
        [1, "heard live"],
        [2, "published while nobody listened"],
      ]);
      await touch(other, job.id, "live again");
      await until(() => heard.length === 3);
      expect(heard.map((j) => j.seq)).toEqual([1, 2, 3]);
      expect(rest.streams(channel(job.id))).toBe(1);
    } finally {
      stop();
    }
  });
});

describe.skipIf(!findRedisServer())("Redis over TCP (pub/sub)", () => {
  async function ownRedis(): Promise<string> {
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), "p2v-resync-redis-"));
    const child: ChildProcess = spawn(
      findRedisServer()!,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      {
        stdio: "ignore",
      },
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    });
    const url = `redis://127.0.0.1:${port}`;
    await until(() => redisAnswers(url));
    return url;
  }

  it("re-reads a watched job once its subscriber connection is back, and sends what was missed", async () => {
    // A Redis of its own: the test cuts every pub/sub connection on it.
    const url = await ownRedis();
    const watching = createStore({ kind: "redis", url }, { prefix: "resync:", retentionDays: 1 });
    const other = createStore({ kind: "redis", url }, { prefix: "resync:", retentionDays: 1 });
    const admin = new Redis(url);
    cleanups.push(async () => {
      await Promise.all([watching.close(), other.close()]);
      admin.disconnect();
    });
    const job = makeJob();
    await watching.create(job);
    const heard: Job[] = [];
    const stop = watching.subscribe(
      job.id,
      (j) => heard.push(j),
      () => heard.at(-1)?.seq ?? 0,
    );
    try {
      await waitForChannels(admin, 1);
      await touch(other, job.id, "heard live");
      await until(() => heard.length === 1);

      // The subscriber connection drops; a change published before it is back reaches no one.
      expect(await admin.call("CLIENT", "KILL", "TYPE", "pubsub")).toBe(1);
      const missed = await touch(other, job.id, "published while nobody listened");
      expect(missed?.job.seq).toBe(2);

      await until(() => heard.length === 2);
      expect(heard.map((j) => [j.seq, j.message])).toEqual([
        [1, "heard live"],
        [2, "published while nobody listened"],
      ]);
      // And it keeps hearing changes live afterwards, each once.
      await touch(other, job.id, "live again");
      await touch(other, job.id, "and again");
      await until(() => heard.length >= 4);
      expect(heard.map((j) => j.seq)).toEqual([1, 2, 3, 4]);
    } finally {
      stop();
    }
  });
});

/** Waits until Redis has `count` channels with subscribers (subscribing is asynchronous). */
async function waitForChannels(admin: Redis, count: number): Promise<void> {
  await waitFor(
    async () => ((await admin.call("PUBSUB", "CHANNELS")) as string[]).length,
    (n) => n >= count,
  );
}
