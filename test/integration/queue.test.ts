import { afterEach, describe, expect, it } from "vitest";
import { setQueueClock, type QueueClock } from "@/lib/jobs/pipeline/queue-clock";
import { isTerminal, type Job, type PublicJob } from "@/lib/core/job";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { waitFor } from "@/test/support/wait-for";
import {
  replicateEnvOf,
  startFakeReplicate,
  type FakeReplicate,
  type FakeReplicateOptions,
} from "@/test/support/fake-replicate";

/**
 * The line end to end on the app's real paths (POST /api/jobs, the status route, signed webhooks
 * from the Replicate-compatible server): admission under MAX_RUNNING_JOBS, the order between
 * browsers, and 429s from Replicate under a burst. The line moves by itself: after the jobs are
 * made, nothing here asks the app anything while waiting (the store is read directly).
 */

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;

afterEach(async () => {
  setQueueClock(null);
  await app?.close();
  await fake?.close();
  app = undefined;
  fake = undefined;
});

const FORM = {
  prompt: "a hummingbird drinking from a flower",
  style: "photoreal",
  model: "wan-video/wan-2.2-t2v-fast",
  enhance: false,
  sound: false,
};

async function setup(env: Record<string, string>, fakeOpts: FakeReplicateOptions = {}) {
  fake = await startFakeReplicate({ timing: { startingMs: 20, processingMs: 100, ticks: 1 }, ...fakeOpts });
  app = await startAppHarness({
    env: {
      ...replicateEnvOf(fake),
      ...env,
    },
  });
  process.env.APP_URL = app.origin;
  const { resetEnvCache } = await import("@/lib/env");
  resetEnvCache();
  return { app, fake };
}

/** Starts a job as a browser does; returns its id and the browser's cookie. */
async function post(cookie?: string): Promise<{ id: string; cookie: string }> {
  const res = await fetch(`${app!.origin}/api/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(FORM),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  return { id, cookie: cookie ?? res.headers.get("set-cookie")!.split(";")[0]! };
}

/** The status route as the job's browser asks it (it answers its owner only). */
async function status(job: { id: string; cookie: string }): Promise<PublicJob> {
  return (await (
    await fetch(`${app!.origin}/api/status/${job.id}`, { headers: { cookie: job.cookie } })
  ).json()) as PublicJob;
}

/** The job ids in the order their video predictions were created at the fake Replicate. */
function predictionOrder(): string[] {
  return [...fake!.predictions.values()].map((rec) => new URL(rec.webhook!).searchParams.get("job")!);
}

const jobs = (ids: string[]) => Promise.all(ids.map(async (id) => (await app!.store.get(id))!));

/** Ends the running predictions one at a time, in the order they were made, until every job has ended. */
async function completeOneByOne(ids: string[]): Promise<Job[]> {
  for (let done = 0; done < ids.length; done++) {
    const [rec] = await waitFor(
      async () =>
        [...fake!.predictions.values()].filter(
          (r) => r.prediction.status === "starting" || r.prediction.status === "processing",
        ),
      (running) => running.length === 1,
    );
    fake!.complete(rec!.prediction.id);
    // The next one starts from the webhook that ended this one: no viewer, no sweep.
    await waitFor(
      () => jobs(ids),
      (list) => list.filter((j) => isTerminal(j.status)).length === done + 1,
    );
  }
  return jobs(ids);
}

/** MAX_RUNNING_JOBS=1 and three jobs from one browser, the first one's run held at Replicate. */
async function threeFromOneBrowser() {
  await setup({ MAX_RUNNING_JOBS: "1" }, { timing: { startingMs: 20, processingMs: 600_000, ticks: 2 } });
  const first = await post();
  const second = await post(first.cookie);
  const third = await post(first.cookie);
  await waitFor(
    async () => fake!.predictions.size,
    (n) => n === 1,
  );
  return [first, second, third] as const;
}

describe("the line", () => {
  it("with MAX_RUNNING_JOBS=1 runs one job, shows the others 1st and 2nd in line, and finishes all three in order", async () => {
    const [first, second, third] = await threeFromOneBrowser();

    const [a, b, c] = await Promise.all([first, second, third].map((j) => status(j)));
    expect(a).toMatchObject({ queuePosition: null, queueWaitSeconds: null });
    expect(a!.status).not.toBe("queued");
    expect(b).toMatchObject({ status: "queued", stage: "queued", message: "Waiting in line…", queuePosition: 1 });
    expect(c).toMatchObject({ status: "queued", queuePosition: 2 });
    // No job has finished here yet: the estimate comes from the model's typical time, and the third waits longer.
    expect(b!.queueWaitSeconds).toBeGreaterThan(0);
    expect(c!.queueWaitSeconds).toBeGreaterThan(b!.queueWaitSeconds!);

    const ids = [first.id, second.id, third.id];
    const ended = await completeOneByOne(ids);
    expect(ended.map((j) => j.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(predictionOrder()).toEqual(ids);
    expect(ended[0]!.completedAt!).toBeLessThan(ended[1]!.completedAt!);
    expect(ended[1]!.completedAt!).toBeLessThan(ended[2]!.completedAt!);
    // The last job's slot is given back by the work its end scheduled.
    await app!.settle();
    expect((await app!.store.queue.snapshot(Date.now())).running).toEqual([]);
  });

  it("starts a second browser's one job before the first browser's third", async () => {
    await setup(
      { MAX_RUNNING_JOBS: "1", MAX_RUNNING_JOBS_PER_BROWSER: "1", MAX_QUEUED_JOBS_PER_BROWSER: "5" },
      { timing: { startingMs: 20, processingMs: 600_000, ticks: 2 } },
    );
    const a1 = await post();
    const rest = [];
    for (let i = 0; i < 4; i++) rest.push((await post(a1.cookie)).id);
    const b1 = await post();
    const ids = [a1.id, ...rest, b1.id];
    expect((await status(b1)).queuePosition).toBe(1);

    const ended = await completeOneByOne(ids);
    expect(ended.every((j) => j.status === "succeeded")).toBe(true);
    const order = predictionOrder();
    expect(order.indexOf(b1.id)).toBeLessThan(order.indexOf(rest[1]!));
    expect(order).toEqual([a1.id, b1.id, ...rest]);
  });

  it("a canceled waiting job leaves the line at once and the ones behind it move up", async () => {
    const [first, second, third] = await threeFromOneBrowser();
    expect((await status(third)).queuePosition).toBe(2);
    // What the Cancel action does (it needs Next's request scope for the owner cookie): cancel, then free the place.
    const { applyEvent } = await import("@/lib/jobs/pipeline/advance");
    const { jobEnded } = await import("@/lib/jobs/pipeline/dispatch");
    await applyEvent(second.id, { type: "cancel" });
    await jobEnded(second.id, false);
    expect((await status(second)).queuePosition).toBeNull();
    expect((await status(third)).queuePosition).toBe(1);
    const ended = await completeOneByOne([first.id, third.id]);
    expect(ended.map((j) => j.status)).toEqual(["succeeded", "succeeded"]);
    expect(predictionOrder()).toEqual([first.id, third.id]);
  });
});

describe("the queue sweep", () => {
  it("frees a slot its ended job never gave back and puts a stored job that missed the line in it", async () => {
    await setup({ MAX_RUNNING_JOBS: "1" }, { timing: { startingMs: 20, processingMs: 600_000, ticks: 2 } });
    const first = await post();
    // Its last delivery for minutes (processing) applied, and the work it scheduled done: nothing
    // in flight would see the job gone and free the slot itself.
    await waitFor(
      () => app!.store.get(first.id),
      (j) => j?.status === "processing",
    );
    await app!.settle();
    // A crash between two writes: the job's record is gone, its slot is still taken.
    await app!.store.delete(first.id);
    // A job stored, but whose enqueue never happened.
    const { newJob } = await import("@/lib/jobs/domain/new-job");
    const { createJobSchema } = await import("@/lib/jobs/domain/request");
    const { MODELS } = await import("@/lib/models/registry");
    const lost = newJob({
      input: createJobSchema(MODELS).parse(FORM),
      ownerId: "owner-lost",
      llmEnhancer: false,
      now: Date.now(),
    });
    await app!.store.create(lost);
    expect((await app!.store.queue.snapshot(Date.now())).running.map((r) => r.jobId)).toEqual([first.id]);

    const { sweepQueue } = await import("@/lib/jobs/pipeline/dispatch");
    expect(await sweepQueue()).toMatchObject({ released: 1, enqueued: 1 });
    await waitFor(
      async () => fake!.predictions.size,
      (n) => n === 2,
    );
    expect(predictionOrder()).toEqual([first.id, lost.id]);
    expect((await app!.store.queue.snapshot(Date.now())).running.map((r) => r.jobId)).toEqual([lost.id]);
  });
});

/** A clock the test moves on: the app's line and the fake's rate-limit window both read it. */
function manualClock(): QueueClock & { advance(ms: number): void } {
  let t = Date.now();
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    after(ms, fn) {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return () => void (timers = timers.filter((x) => x !== timer));
    },
    advance(ms) {
      t += ms;
      const due = timers.filter((x) => x.at <= t);
      timers = timers.filter((x) => x.at > t);
      for (const x of due) x.fn();
    },
  };
}

describe("a burst against Replicate's rate limit", () => {
  it("finishes 60 jobs with 429s past 5 creates in 10 s: none failed, none created twice", async () => {
    const clock = manualClock();
    setQueueClock(clock);
    await setup(
      { RATE_LIMITS: "off", MAX_RUNNING_JOBS: "10", MAX_RUNNING_JOBS_PER_BROWSER: "0" },
      { createRateLimit: { creates: 5, windowMs: 10_000, now: clock.now } },
    );
    const first = await post();
    const ids = [first.id];
    for (let i = 1; i < 60; i++) ids.push((await post(first.cookie)).id);
    const createAttempts = () =>
      fake!.requests.filter((r) => r.method === "POST" && r.path.endsWith("/predictions")).length;

    for (let window = 0; window < 40; window++) {
      // Quiet: every job has ended or waits in line for the window to open (nothing admitted, nothing running).
      const list = await waitFor(
        async () => ({ jobs: await jobs(ids), snap: await app!.store.queue.snapshot(clock.now()) }),
        ({ jobs: js, snap }) =>
          snap.running.length === 0 &&
          js.every((j) => j.status === "succeeded" || (j.status === "queued" && j.admittedAt === null)),
        60_000,
      );
      expect(list.jobs.filter((j) => j.status === "failed")).toEqual([]);
      if (list.jobs.every((j) => j.status === "succeeded")) break;
      expect(Object.keys(list.snap.holds)).toEqual(["replicate"]);
      const before = createAttempts();
      clock.advance(10_000);
      // The hold's timer wakes the line: wait for its creates to reach Replicate.
      await waitFor(
        async () => createAttempts(),
        (n) => n > before,
      );
    }

    const ended = await jobs(ids);
    expect(ended.filter((j) => j.status !== "succeeded").map((j) => `${j.status}: ${j.error}`)).toEqual([]);
    const perJob = new Map<string, number>();
    for (const id of predictionOrder()) perJob.set(id, (perJob.get(id) ?? 0) + 1);
    expect([...perJob.values()].every((n) => n === 1)).toBe(true);
    expect(perJob.size).toBe(60);
    expect(fake!.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  }, 240_000);
});
