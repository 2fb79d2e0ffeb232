import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import type { Job } from "@/lib/core/job";
import { findStep } from "@/lib/jobs/domain/steps";
import { createStore } from "@/lib/store";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { waitFor } from "@/test/support/wait-for";
import {
  deliver,
  generatingJob,
  newWebhookId,
  outputOf,
  pool,
  refOf,
  seeded,
  shuffle,
  signedHeaders,
  tqdmLine,
  webhookUrl,
  type Delivery,
} from "@/test/faults/support";

/**
 * 1,000 signed deliveries for 20 jobs, each sent twice with the same webhook-id, shuffled, 50 at
 * a time: the way Replicate's throttled, retried, unordered webhooks can arrive. Every job must
 * end with its generate step done and the right output, progress must never go down, and each
 * duplicate must be recognised as one.
 */

const JOBS = 20;
/** Processing events per job; one succeeded event follows. Sent twice each: 20 × 25 × 2 = 1,000. */
const PROCESSING = 24;
const CONCURRENCY = 50;

type Sample = { seq: number; progress: number | null; stepProgress: number | null; logsLength: number };

async function flood(app: AppHarness, seed: number) {
  const jobs = Array.from({ length: JOBS }, () => generatingJob());
  for (const job of jobs) await app.store.create(job);

  // Every change of every job, as the store announces it (what the SSE route streams).
  const samples = new Map<string, Sample[]>(jobs.map((j) => [j.id, []]));
  const unsubscribe = jobs.map((job) =>
    app.store.subscribe(job.id, (j: Job) => {
      const step = findStep(j, "generate")!;
      samples
        .get(job.id)!
        .push({ seq: j.seq, progress: j.progress, stepProgress: step.progress, logsLength: step.logsLength });
    }),
  );
  // Redis subscriptions are confirmed asynchronously: touch every job until each subscription
  // has heard it, then start from an empty history.
  const heardTouch = () => jobs.every((j) => samples.get(j.id)!.length > 0);
  await waitFor(async () => {
    for (const job of jobs) if (samples.get(job.id)!.length === 0) await app.store.update(job.id, (j) => ({ ...j }));
    return heardTouch();
  }, Boolean);
  const touched = new Map(await Promise.all(jobs.map(async (j) => [j.id, (await app.store.get(j.id))!.seq] as const)));
  await waitFor(async () => jobs.every((j) => samples.get(j.id)!.some((s) => s.seq === touched.get(j.id))), Boolean);
  for (const list of samples.values()) list.length = 0;

  const unique: Delivery[] = [];
  for (const job of jobs) {
    const lines: string[] = [];
    for (let n = 1; n <= PROCESSING; n++) {
      lines.push(tqdmLine(n, PROCESSING + 1));
      const body = JSON.stringify({
        id: refOf(job.id),
        status: "processing",
        logs: lines.join("\n"),
        started_at: new Date().toISOString(),
      });
      unique.push({ jobId: job.id, webhookId: newWebhookId(), body });
    }
    lines.push(tqdmLine(PROCESSING + 1, PROCESSING + 1));
    const done = { id: refOf(job.id), status: "succeeded", logs: lines.join("\r"), output: outputOf(job.id) };
    unique.push({ jobId: job.id, webhookId: newWebhookId(), body: JSON.stringify(done) });
  }
  // Each delivery twice (a retry keeps its webhook-id and is signed again), in a shuffled order.
  const all = shuffle([...unique, ...unique], seeded(seed));
  expect(all).toHaveLength(1000);

  const answers = await pool(
    all.map((d) => async () => {
      const res = await deliver(app.origin, d);
      return {
        id: d.webhookId,
        status: res.status,
        body: (await res.json()) as { ok?: boolean; duplicate?: boolean; applied?: boolean },
      };
    }),
    CONCURRENCY,
  );
  await app.settle();

  return { jobs, samples, answers, unsubscribe: () => unsubscribe.forEach((u) => u()) };
}

function scenario(name: string, open: () => Promise<AppHarness>) {
  describe(`a flood of duplicated, shuffled webhooks (${name} store)`, () => {
    let app: AppHarness | null = null;
    afterEach(async () => {
      await app?.close();
      app = null;
    });

    it("ends every job with the right output, never lowers progress, and counts every duplicate", async () => {
      app = await open();
      const seed = Number.parseInt(randomBytes(4).toString("hex"), 16);
      const { jobs, samples, answers, unsubscribe } = await flood(app, seed);
      const context = `seed ${seed}`;

      expect(
        answers.every((a) => a.status === 200 && a.body.ok === true),
        context,
      ).toBe(true);
      // Exactly one of the two copies of each delivery is applied; the other is a duplicate.
      const byId = new Map<string, number>();
      for (const a of answers) byId.set(a.id, (byId.get(a.id) ?? 0) + (a.body.duplicate ? 1 : 0));
      expect(
        [...byId.values()].every((n) => n === 1),
        context,
      ).toBe(true);
      expect(answers.filter((a) => a.body.duplicate)).toHaveLength(500);

      for (const job of jobs) {
        const final = (await app.store.get(job.id))!;
        const generate = findStep(final, "generate")!;
        expect(
          { status: final.status, state: generate.state, output: generate.output, progress: final.progress },
          context,
        ).toEqual({
          status: "succeeded",
          state: "done",
          output: outputOf(job.id),
          progress: 100,
        });
        expect(final.error).toBeNull();
      }

      // Pub/sub may lag the last write a little: wait until every job's final change was heard.
      const finalSeq = new Map(
        await Promise.all(jobs.map(async (j) => [j.id, (await app!.store.get(j.id))!.seq] as const)),
      );
      await waitFor(
        async () => jobs.every((j) => samples.get(j.id)!.some((s) => s.seq === finalSeq.get(j.id))),
        Boolean,
      );
      unsubscribe();
      for (const job of jobs) {
        const seen = samples.get(job.id)!.sort((a, b) => a.seq - b.seq);
        for (let i = 1; i < seen.length; i++) {
          const [before, after] = [seen[i - 1]!, seen[i]!];
          expect(after.progress ?? 0, `${context}, job ${job.id}, seq ${after.seq}`).toBeGreaterThanOrEqual(
            before.progress ?? 0,
          );
          expect(after.stepProgress ?? 0).toBeGreaterThanOrEqual(before.stepProgress ?? 0);
          expect(after.logsLength).toBeGreaterThanOrEqual(before.logsLength);
        }
        expect(seen.at(-1)!.progress).toBe(100);
      }
      // A job whose succeeded event came first has one change only; most have a history to check.
      // The changes applied per job are the records of a random order of its deliveries (about
      // 3.8 on average for 25, so ~76 in all, standard deviation ~7): more than two per job is
      // all but certain, while a flood that applied only the final events would fail it.
      const histories = [...samples.values()];
      expect(
        histories.reduce((n, h) => n + h.length, 0),
        context,
      ).toBeGreaterThan(JOBS * 2);
      expect(
        histories.flat().some((s) => s.stepProgress !== null && s.stepProgress > 0 && s.stepProgress < 100),
        context,
      ).toBe(true);

      // Late copies of a finished job's deliveries change nothing and are still answered 200.
      const late = jobs[0]!;
      const seqBefore = (await app.store.get(late.id))!.seq;
      const body = JSON.stringify({ id: refOf(late.id), status: "processing", logs: tqdmLine(1, 25) });
      const res = await fetch(webhookUrl(app.origin, { jobId: late.id }), {
        method: "POST",
        headers: signedHeaders({ body, webhookId: newWebhookId() }),
        body,
      });
      expect(await res.json()).toEqual({ ok: true, applied: false });
      expect((await app.store.get(late.id))!.seq).toBe(seqBefore);
    });
  });
}

const redisPrefix = `p2v-test:flood:${randomBytes(6).toString("hex")}:`;

scenario("embedded", () => startAppHarness());
scenario("Redis", () => {
  const url = inject("redisUrl");
  if (!url) throw new Error(inject("redisError"));
  return startAppHarness({ store: () => createStore({ kind: "redis", url }, { prefix: redisPrefix }) });
});

afterAll(async () => {
  const url = inject("redisUrl");
  if (!url) return;
  const client = new Redis(url);
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${redisPrefix}*`, "COUNT", 500);
    if (keys.length) await client.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  await client.quit();
});
