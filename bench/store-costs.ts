/**
 * Store commands per backend, measured in-process with the store classes' `stats.commands`
 * (the Next server keeps its store to itself). The app's server code runs as in production, behind
 * the test app harness (webhook and status routes on loopback, real local engine and a fake
 * Replicate server), once per backend: embedded files, Redis over TCP, Upstash REST (emulator in
 * front of the same Redis). Run by bench/run.ts as:
 *   node --conditions=react-server --import tsx bench/store-costs.ts
 * (react-server: `server-only` resolves to its empty module, as inside Next.)
 * Prints one line `STORE_COSTS <json>`.
 */
import { startAppHarness, type AppHarness } from "../test/support/app-harness";
import { waitFor } from "../test/support/wait-for";
import { startFakeReplicate } from "../test/support/fake-replicate";
import type { UpstashRestServer } from "../test/support/upstash-rest-server";
import { BENCH_MODEL, runningJob } from "./jobs";
import { withBenchRedis } from "./redis-backends";
import { sleep } from "./stats";
import { resetEnvCache } from "@/lib/env";
import { eventStreamResponse } from "@/lib/jobs/adapters/event-stream";
import { newJob } from "@/lib/jobs/domain/new-job";
import { dispatch, enqueueJob } from "@/lib/jobs/pipeline/dispatch";
import { createJobSchema } from "@/lib/jobs/domain/request";
import { isTerminal } from "@/lib/core/job";
import { statusResponse } from "@/lib/jobs/adapters/status-response";
import { MODELS } from "@/lib/models/registry";
import { createStore } from "@/lib/store";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import type { JobStore } from "@/lib/store/types";
import { asOwner } from "../test/support/owner";
import { BENCH_OWNER_ID } from "./owner";

export type BackendCosts = {
  backend: JobStore["kind"];
  perStatusRequest: number;
  perStreamOpen: number;
  /** Store commands per watcher-minute while the watched job is quiet (10 jobs, one watcher each). */
  perWatcherMinuteIdle: number;
  perCompletedJob: { local: number; replicate: number };
  /**
   * Upstash only: what the REST server received (commands and subscribe requests, as Upstash
   * counts them) while the watched jobs were opened and then quiet.
   */
  rest?: { perStreamOpen: number; perJobMinuteIdle: number };
};

const STATUS_REQUESTS = 50;
const WATCHERS = 10;
const IDLE_MS = 10_000;

type Backend = {
  kind: JobStore["kind"];
  make: (dataDir: string) => JobStore;
  observer: (dataDir: string) => JobStore;
  /** The Upstash REST emulator the store talks to, whose own count is read too. */
  rest?: UpstashRestServer;
};

async function measure(backend: Backend): Promise<BackendCosts> {
  const fake = await startFakeReplicate({ timing: { startingMs: 150, processingMs: 800, ticks: 4 } });
  const app: AppHarness = await startAppHarness({
    env: {
      REPLICATE_API_TOKEN: fake.token,
      REPLICATE_BASE_URL: fake.baseUrl,
      REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
      LOG_LEVEL: "silent",
    },
    store: backend.make,
  });
  // Replicate's webhooks come back to the harness.
  process.env.APP_URL = app.origin;
  resetEnvCache();
  const store = app.store;
  // Waiting for a job to end reads through another instance, so that the measured one only counts the app's work.
  const observer = backend.observer(app.dataDir);
  const schedule = (task: () => Promise<unknown>) => void task().catch(() => undefined);
  // Only a job's owner is answered (lib/jobs/adapters/access.ts): every job here is the bench owner's. Its
  // cookie is signed before measuring, so the session secret's one store read is not counted.
  const headers = await asOwner({}, BENCH_OWNER_ID);
  try {
    // 1. The status route: one request, how many commands.
    const probe = runningJob(0);
    await store.create(probe);
    let before = store.stats.commands;
    for (let i = 0; i < STATUS_REQUESTS; i++) {
      const res = await statusResponse(
        new Request(`${app.origin}/api/status/${probe.id}`, headers),
        probe.id,
        schedule,
      );
      await res.arrayBuffer();
    }
    const perStatusRequest = (store.stats.commands - before) / STATUS_REQUESTS;

    // 2. Event streams: the cost of opening one, then of a quiet minute.
    const jobs = Array.from({ length: WATCHERS }, (_, i) => runningJob(i + 1));
    for (const job of jobs) await store.create(job);
    const aborters = jobs.map(() => new AbortController());
    before = store.stats.commands;
    const restBefore = backend.rest?.commands ?? 0;
    const readers = await Promise.all(
      jobs.map(async (job, i) => {
        const res = await eventStreamResponse(
          new Request(`${app.origin}/api/events/${job.id}`, { ...headers, signal: aborters[i]!.signal }),
          job.id,
          { schedule },
        );
        const reader = res.body!.getReader();
        void (async () => {
          while (!(await reader.read()).done);
        })().catch(() => undefined);
        return reader;
      }),
    );
    // Upstash: until every subscribe stream is in place and its catch-up read is done.
    if (backend.rest)
      await waitFor(
        async () => backend.rest!.streams(),
        (n) => n === WATCHERS,
        10_000,
      );
    await sleep(backend.rest ? 300 : 50);
    const perStreamOpen = (store.stats.commands - before) / WATCHERS;
    const restOpened = backend.rest?.commands ?? 0;
    before = store.stats.commands;
    const idleStart = performance.now();
    await sleep(IDLE_MS);
    const idleMinutes = (performance.now() - idleStart) / 60_000;
    const perWatcherMinuteIdle = (store.stats.commands - before) / (WATCHERS * idleMinutes);
    const rest = backend.rest
      ? {
          perStreamOpen: (restOpened - restBefore) / WATCHERS,
          perJobMinuteIdle: (backend.rest.commands - restOpened) / (WATCHERS * idleMinutes),
        }
      : undefined;
    for (const a of aborters) a.abort();
    await Promise.all(readers.map((r) => r.cancel().catch(() => undefined)));

    // 3. Whole jobs, from creation to a saved video, without anyone watching.
    const completed = async (model: string, llmEnhancer: boolean) => {
      await app.settle();
      const start = store.stats.commands;
      const input = createJobSchema(MODELS).parse({
        prompt: "a paper lantern drifting over a dark lake",
        style: "cinematic",
        model,
        enhance: "on",
      });
      const job = newJob({ input, ownerId: BENCH_OWNER_ID, llmEnhancer, now: Date.now() });
      await store.create(job);
      await enqueueJob(job);
      await dispatch();
      const done = await waitFor(
        () => observer.get(job.id),
        (j) => j !== null && isTerminal(j.status),
        60_000,
      );
      await app.settle();
      if (done?.status !== "succeeded")
        throw new Error(`${backend.kind}: the ${model} job ended ${done?.status}: ${done?.error}`);
      return store.stats.commands - start;
    };
    const local = await completed("local/preview", false);
    const replicate = await completed(BENCH_MODEL, true);

    return {
      backend: backend.kind,
      perStatusRequest,
      perStreamOpen,
      perWatcherMinuteIdle,
      perCompletedJob: { local, replicate },
      rest,
    };
  } finally {
    await observer.close();
    await app.close();
    await fake.close();
    delete process.env.APP_URL;
    resetEnvCache();
  }
}

async function main(): Promise<void> {
  const results: BackendCosts[] = [];
  results.push(
    await measure({
      kind: "embedded",
      make: (dir) => new EmbeddedStore({ dir, retentionDays: 30 }),
      observer: (dir) => new EmbeddedStore({ dir, retentionDays: 30 }),
    }),
  );

  const redisUrl = await withBenchRedis("p2v-bench-", async (redis) => {
    const observer = () => createStore({ kind: "redis", url: redis.url }, redis.opts);
    results.push(
      await measure({
        kind: "redis",
        make: () => createStore({ kind: "redis", url: redis.url }, redis.opts),
        observer,
      }),
    );
    await redis.dropKeys();
    const upstash = await redis.withUpstash((rest) =>
      measure({
        kind: "upstash",
        make: () => createStore({ kind: "upstash", url: rest.url, token: rest.token }, redis.opts),
        observer,
        rest,
      }),
    );
    results.push(upstash);
    return redis.url;
  });
  console.log(`STORE_COSTS ${JSON.stringify({ redisUrl, results })}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
