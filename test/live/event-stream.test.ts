import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { waitFor } from "../support/wait-for";
import { makeRenderingJob } from "../support/job-factory";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash-rest-server";
import { startLiveHarness, type LiveHarness, type StreamTransport } from "./live-harness";
import { jobEvents, openSse, SseParser, type SseConnection } from "./sse-client";
import { eventStreamResponse, type EventStreamOptions } from "@/lib/jobs/adapters/event-stream";
import { sharedWatchState } from "@/lib/jobs/adapters/job-channels";
import { newJob } from "@/lib/jobs/domain/new-job";
import { dispatch, enqueueJob } from "@/lib/jobs/pipeline/dispatch";
import { createJobSchema } from "@/lib/jobs/domain/request";
import { type Job } from "@/lib/core/job";
import { transition } from "@/lib/jobs/domain/transition";
import { MODELS } from "@/lib/models/registry";
import { createStore } from "@/lib/store";
import { webhookSigner } from "@/lib/webhooks/sign";
import type { JobStore } from "@/lib/store/types";
import { ownerCookie, TEST_OWNER_ID } from "../support/owner";

let app: LiveHarness | undefined;
const streams: SseConnection[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Who serves the stream in the tests that follow (both run the same tests): see live-harness.ts. */
let transport: StreamTransport = "node";

async function setup(stream: EventStreamOptions = {}, store?: (dataDir: string) => JobStore): Promise<LiveHarness> {
  app = await startLiveHarness({ stream, store, transport });
  cookie = await ownerCookie();
  return app;
}

/** The owner's cookie: only the owner of a job gets its stream (and status). */
let cookie = "";

function open(id: string, opts: { query?: string; lastEventId?: number } = {}): SseConnection {
  const s = openSse(app!.eventsUrl(id, opts.query), { lastEventId: opts.lastEventId, cookie });
  streams.push(s);
  return s;
}

const seqs = (s: SseConnection) => jobEvents(s.messages).map((e) => e.job.seq);
const until = (check: () => boolean) => waitFor(async () => check(), Boolean);
const comments = (s: SseConnection) => s.messages.filter((m) => m.kind === "comment").length;

/** A job rendering on the local engine that nothing needs to reconcile for 30 s (no ref yet). */
async function runningJob(store: JobStore): Promise<Job> {
  const job = makeRenderingJob();
  await store.create(job);
  return job;
}

/** What the engine would send: a signed Standard Webhooks delivery of a prediction. */
async function deliver(job: Job, prediction: Record<string, unknown>): Promise<Response> {
  const body = JSON.stringify({ id: "lp_webhook_test_0000000", status: "processing", ...prediction });
  return fetch(`${app!.origin}/api/webhook?job=${job.id}&step=generate&attempt=1`, {
    method: "POST",
    headers: webhookSigner(process.env.LOCAL_WEBHOOK_SECRET!)(body),
    body,
  });
}

const touch = (store: JobStore, id: string, message: string) => store.update(id, (j) => ({ ...j, message }));

describe.each([
  ["the Node server (next start)", "node"],
  ["the route handler (Vercel, next dev)", "web"],
] as const)("GET /api/events/[id], served by %s", (_, served) => {
  beforeEach(() => void (transport = served));
  afterEach(() => void (transport = "node"));

  it("sends the current state at once, then every change the moment it is applied", async () => {
    // No tick and no heartbeat during the test: what arrives was pushed by the change itself.
    const { store } = await setup({ tickMs: 3_600_000, heartbeatMs: 3_600_000 });
    const job = await runningJob(store);
    const s = open(job.id);
    const { status, headers } = await s.response;
    expect(status).toBe(200);
    expect(headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(headers["cache-control"]).toContain("no-transform");
    await until(() => seqs(s).length === 1);
    expect(s.messages[0]).toMatchObject({ kind: "retry", ms: 2000 });
    expect(jobEvents(s.messages)[0]).toMatchObject({ id: "0", job: { id: job.id, seq: 0, status: "processing" } });

    // An engine event: a signed webhook with progress in its logs.
    const res = await deliver(job, { logs: " 40%|████      | 40/100 [00:01<00:01, 40.00it/s]" });
    expect(((await res.json()) as { applied: boolean }).applied).toBe(true);
    await until(() => seqs(s).includes(1));
    expect(jobEvents(s.messages)[1]!.job).toMatchObject({ seq: 1, stage: "generating" });
    expect(jobEvents(s.messages)[1]!.job.steps).toContainEqual(
      expect.objectContaining({ name: "generate", progress: 40 }),
    );
    expect(JSON.stringify(jobEvents(s.messages)[1]!.job)).not.toContain("owner-test");

    await touch(store, job.id, "second");
    await touch(store, job.id, "third");
    await until(() => seqs(s).length === 4);
    expect(seqs(s)).toEqual([0, 1, 2, 3]);
    expect(jobEvents(s.messages).map((e) => e.id)).toEqual(["0", "1", "2", "3"]);
  });

  it("resumes after Last-Event-ID: the current state is sent at once only when it is newer", async () => {
    const { store } = await setup();
    const job = await runningJob(store);
    await touch(store, job.id, "one"); // seq 1

    const upToDate = open(job.id, { lastEventId: 1 });
    const behind = open(job.id, { lastEventId: 0 });
    const rendered = open(job.id, { query: "since=1" });
    const headerWins = open(job.id, { query: "since=1", lastEventId: 0 });
    await until(() => seqs(behind).length === 1 && seqs(headerWins).length === 1);
    expect(seqs(behind)).toEqual([1]);
    expect(seqs(headerWins)).toEqual([1]);

    // Events on one stream arrive in order: had seq 1 been sent to the up-to-date clients, it
    // would come before seq 2.
    await touch(store, job.id, "two"); // seq 2
    await until(() => [upToDate, behind, rendered, headerWins].every((s) => seqs(s).at(-1) === 2));
    expect(seqs(upToDate)).toEqual([2]);
    expect(seqs(rendered)).toEqual([2]);
    expect(seqs(behind)).toEqual([1, 2]);
    expect(seqs(headerWins)).toEqual([1, 2]);
  });

  it("sends a keepalive comment after each heartbeat of silence, and none while changes flow", async () => {
    const { store } = await setup();
    const job = await runningJob(store);
    // On a clock the test moves: the stream's ticks and "now" are fake, the store's I/O is real.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "Date"] });
    try {
      const res = await eventStreamResponse(new Request(app!.eventsUrl(job.id), { headers: { cookie } }), job.id, {
        store,
        heartbeatMs: 1000,
        tickMs: 100,
        schedule: () => undefined,
      });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      const received: ReturnType<SseParser["push"]> = [];
      const pump = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received.push(...parser.push(value));
        }
      })();
      const keepalives = () => received.filter((m) => m.kind === "comment" && m.text === "keepalive").length;
      await until(() => jobEvents(received).length === 1);

      await vi.advanceTimersByTimeAsync(999);
      expect(keepalives()).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      await until(() => keepalives() === 1);
      await vi.advanceTimersByTimeAsync(3000);
      await until(() => keepalives() === 4);

      // A change is a write too: the next keepalive is a full heartbeat after it.
      await vi.advanceTimersByTimeAsync(500);
      await touch(store, job.id, "a change");
      await until(() => jobEvents(received).length === 2);
      await vi.advanceTimersByTimeAsync(900);
      expect(keepalives()).toBe(4);
      await vi.advanceTimersByTimeAsync(100);
      await until(() => keepalives() === 5);
      await reader.cancel();
      await pump;
    } finally {
      vi.useRealTimers();
    }
  });

  it("ends after a terminal state, and answers 204 to a client that already has it", async () => {
    const { store } = await setup();
    const job = await runningJob(store);
    const s = open(job.id);
    await until(() => seqs(s).length === 1);
    await store.update(job.id, (j) => transition(j, { type: "cancel", reason: "Stopped by the test." }, Date.now()));
    await s.ended;
    const last = jobEvents(s.messages).at(-1)!;
    expect(last.job).toMatchObject({ seq: 1, status: "canceled" });
    await until(() => app!.subscriptions() === 0);

    // EventSource reconnects after the stream ends; 204 tells it to stop.
    const again = open(job.id, { lastEventId: 1 });
    expect((await again.response).status).toBe(204);
    // A client that has not seen the end gets it, and the stream closes at once.
    const late = open(job.id, { lastEventId: 0 });
    await late.ended;
    expect(jobEvents(late.messages).map((e) => e.job.status)).toEqual(["canceled"]);
  });

  it("closes at its time limit; the client resumes with Last-Event-ID and misses nothing", async () => {
    const { store } = await setup({ maxLifetimeMs: 300 });
    const job = await runningJob(store);
    const first = open(job.id);
    // The job is still running: only the time limit ends this stream.
    await first.ended;
    expect(seqs(first)).toEqual([0]);
    await touch(store, job.id, "changed while away"); // seq 1
    const second = open(job.id, { lastEventId: 0 });
    await until(() => seqs(second).length === 1);
    expect(seqs(second)).toEqual([1]);
  });

  it("shares one store subscription among a job's streams, and lets go of it when the last client goes away", async () => {
    const { store } = await setup();
    const job = await runningJob(store);
    const other = await runningJob(store);
    const many = Array.from({ length: 20 }, () => open(job.id));
    const alone = open(other.id);
    await until(() => [...many, alone].every((s) => seqs(s).length === 1));
    // One per watched job on this instance, fanned out to its streams.
    expect(app!.subscriptions()).toBe(2);
    expect(sharedWatchState(store)).toEqual({ channels: 2, tickers: 1 });
    await touch(store, job.id, "to every watcher");
    await until(() => many.every((s) => seqs(s).length === 2));
    for (const s of many.slice(1)) s.close();
    await touch(store, job.id, "to the one left");
    await until(() => seqs(many[0]!).length === 3);
    expect(app!.subscriptions()).toBe(2);
    many[0]!.close();
    alone.close();
    await until(() => app!.subscriptions() === 0);
    expect(sharedWatchState(store)).toEqual({ channels: 0, tickers: 0 });
    // Changes after that reach nobody and break nothing.
    await touch(store, job.id, "nobody listens");
    expect(app!.subscriptions()).toBe(0);
  });

  it("reads the store once per connection, and not at all while the job is quiet", async () => {
    const { store } = await setup({ heartbeatMs: 100, tickMs: 50 });
    const job = await runningJob(store);
    const before = store.stats.commands;
    const s = open(job.id);
    await until(() => seqs(s).length === 1);
    expect(store.stats.commands - before).toBe(1);
    const idleFrom = store.stats.commands;
    // Ten heartbeats of silence, each after two ticks that looked at the job in memory.
    await until(() => comments(s) >= 10);
    expect(store.stats.commands - idleFrom).toBe(0);
  });

  it("drops a client that stops reading once its backlog passes the limit, and lets go of the store", async () => {
    const { store } = await setup();
    const job = await runningJob(store);
    const limit = 16 * 1024;
    // A client that never reads: nothing is taken from the body, so every event stays queued.
    const req = new Request(app!.eventsUrl(job.id), { headers: { cookie } });
    const res = await eventStreamResponse(req, job.id, { store, maxBufferedBytes: limit, schedule: () => undefined });
    expect(res.status).toBe(200);
    expect(app!.subscriptions()).toBe(1);
    const padding = "x".repeat(1000);
    let changes = 0;
    while (app!.subscriptions() > 0 && changes < 100) await touch(store, job.id, `change ${++changes} ${padding}`);
    // Dropped after about limit / 1 kB changes, long before the 100th.
    expect(app!.subscriptions()).toBe(0);
    expect(changes).toBeLessThan(40);

    // What was queued is bounded by the limit (plus the one event that crossed it), and the stream has ended.
    const text = await res.text();
    expect(Buffer.byteLength(text)).toBeLessThan(limit + 4 * 1024);
    const seqsQueued = jobEvents(new SseParser().push(text)).map((e) => e.job.seq);
    expect(seqsQueued[0]).toBe(0);
    expect(seqsQueued.at(-1)).toBeLessThan(changes);
  });

  it("answers 400 for a malformed id and 404 for an unknown job, without keeping a subscription", async () => {
    await setup();
    const bad = open("not-a-job-id");
    expect((await bad.response).status).toBe(400);
    const missing = open("A".repeat(22));
    expect((await missing.response).status).toBe(404);
    await Promise.all([bad.ended, missing.ended]);
    expect(app!.subscriptions()).toBe(0);
  });

  it("nudges reconciliation, so a job whose webhooks are lost still finishes while watched only through the stream", async () => {
    const { store, port } = await setup({ nudgeIntervalMs: 500 });
    const input = createJobSchema(MODELS).parse({
      prompt: "a lantern drifting over a lake",
      style: "anime",
      model: "local/preview",
      enhance: "off",
      duration: "4",
    });
    const job = newJob({ input, ownerId: TEST_OWNER_ID, llmEnhancer: false, now: Date.now() });
    await store.create(job);
    await enqueueJob(job);
    // The engine's webhooks go to a port where nothing listens: every delivery is lost.
    process.env.PORT = "1";
    await dispatch();
    process.env.PORT = String(port);
    const s = open(job.id);
    await s.ended;
    await app!.settleStreams();
    await app!.settle();
    const events = jobEvents(s.messages);
    // Every delivery went to port 1, so what the watcher saw (progress included, when a nudge
    // caught the render midway) came from asking the engine.
    expect(events.at(-1)!.job).toMatchObject({
      status: "succeeded",
      videoUrl: expect.stringMatching(new RegExp(`^/api/files/${job.id}/[a-z0-9-]+\\.mp4$`)),
    });
    expect(events.map((e) => e.job.seq)).toEqual([...events.map((e) => e.job.seq)].sort((a, b) => a - b));
  });
});

describe("GET /api/status/[id] validators", () => {
  it("answers 304 to If-None-Match while nothing changed; finished jobs are cached but always revalidated", async () => {
    const { store, origin } = await setup();
    const job = await runningJob(store);
    const first = await fetch(`${origin}/api/status/${job.id}`, { headers: { cookie } });
    const etag = first.headers.get("etag")!;
    expect(etag).toBe(`"${job.id}.0"`);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const before = store.stats.commands;
    const same = await fetch(`${origin}/api/status/${job.id}`, { headers: { cookie, "if-none-match": etag } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    expect(store.stats.commands - before).toBe(1);

    await store.update(job.id, (j) => transition(j, { type: "cancel" }, Date.now()));
    const changed = await fetch(`${origin}/api/status/${job.id}`, { headers: { cookie, "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).toBe(`"${job.id}.1"`);
    // Kept by the browser, but never used without asking: a finished job still changes.
    expect(changed.headers.get("cache-control")).toBe("private, no-cache");
    const finished = await fetch(`${origin}/api/status/${job.id}`, {
      headers: { cookie, "if-none-match": `"${job.id}.1"` },
    });
    expect(finished.status).toBe(304);
    expect(finished.headers.get("cache-control")).toBe("private, no-cache");

    // Its owner shares it: the cached copy is out of date, and revalidation says so.
    const token = "T".repeat(32);
    await store.update(job.id, (j) => ({
      ...j,
      share: { token, sharedAt: Date.now(), videoUrl: `/api/shared/${token}/video.mp4`, posterUrl: null },
    }));
    const shared = await fetch(`${origin}/api/status/${job.id}`, {
      headers: { cookie, "if-none-match": `"${job.id}.1"` },
    });
    expect(shared.status).toBe(200);
    expect(((await shared.json()) as { shared: boolean }).shared).toBe(true);
    // Deleted: gone for everyone, cached copy or not.
    await store.delete(job.id);
    const deleted = await fetch(`${origin}/api/status/${job.id}`, {
      headers: { cookie, "if-none-match": `"${job.id}.2"` },
    });
    expect(deleted.status).toBe(404);
  });
});

describe("on Redis over TCP (pub/sub)", () => {
  const redisUrl = () => {
    const url = inject("redisUrl");
    if (!url) throw new Error(inject("redisError"));
    return url;
  };
  const prefix = `p2v-live-${randomBytes(4).toString("hex")}-`;
  let n = 0;

  async function redisSetup(stream: EventStreamOptions = {}) {
    const url = redisUrl();
    const keyPrefix = `${prefix}${n++}:`;
    const app = await setup(stream, () => createStore({ kind: "redis", url }, { prefix: keyPrefix, retentionDays: 1 }));
    // Another instance of the app, sharing the database.
    const other = createStore({ kind: "redis", url }, { prefix: keyPrefix, retentionDays: 1 });
    const probe = new Redis(url);
    cleanups.push(async () => {
      await other.close();
      const keys = await probe.keys(`${keyPrefix}*`);
      if (keys.length) await probe.del(...keys);
      probe.disconnect();
    });
    return { app, other, probe, channel: (id: string) => `${keyPrefix}job:${id}:events` };
  }

  it("pushes a change made by another instance, and reads nothing while the job is quiet", async () => {
    const { app, other } = await redisSetup({ heartbeatMs: 100, tickMs: 50 });
    const job = await runningJob(app.store);
    const s = open(job.id);
    await until(() => seqs(s).length === 1);
    const idleFrom = app.store.stats.commands;
    await until(() => comments(s) >= 8);
    expect(app.store.stats.commands - idleFrom).toBe(0);

    await touch(other, job.id, "from the other instance");
    await until(() => seqs(s).includes(1));
    expect(jobEvents(s.messages).at(-1)!.job).toMatchObject({ seq: 1, message: "from the other instance" });
  });

  it("unsubscribes from the channel when the last client goes away", async () => {
    const { app, probe, channel } = await redisSetup();
    const job = await runningJob(app.store);
    const many = Array.from({ length: 5 }, () => open(job.id));
    await until(() => many.every((s) => seqs(s).length === 1));
    const numsub = async () => ((await probe.call("PUBSUB", "NUMSUB", channel(job.id))) as [string, number])[1];
    expect(await numsub()).toBe(1);
    for (const s of many) s.close();
    await until(() => app.subscriptions() === 0);
    await waitFor(numsub, (count) => count === 0);
  });
});

describe("on Upstash REST (subscribe stream)", () => {
  it("pushes a change made by another instance", async () => {
    const url = inject("redisUrl");
    if (!url) throw new Error(inject("redisError"));
    const rest: UpstashRestServer = await startUpstashRestServer({
      redisUrl: url,
      token: randomBytes(12).toString("hex"),
    });
    const keyPrefix = `p2v-live-${randomBytes(4).toString("hex")}:`;
    const config = { kind: "upstash" as const, url: rest.url, token: rest.token };
    const opts = { prefix: keyPrefix, retentionDays: 1 };
    const other = createStore(config, opts);
    const probe = new Redis(url);
    cleanups.push(async () => {
      await other.close();
      const keys = await probe.keys(`${keyPrefix}*`);
      if (keys.length) await probe.del(...keys);
      probe.disconnect();
      await rest.close();
    });
    const live = await setup({}, () => createStore(config, opts));
    const job = await runningJob(live.store);
    const s = open(job.id);
    await until(() => seqs(s).length === 1);
    await touch(other, job.id, "from the other instance");
    await until(() => seqs(s).includes(1));
    s.close();
    await until(() => live.subscriptions() === 0);
  });
});
