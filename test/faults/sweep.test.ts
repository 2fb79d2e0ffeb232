import { describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../support/app-harness";
import type { FakeReplicate } from "../support/fake-replicate";
import { waitFor } from "../support/wait-for";
import { closeAfterEach } from "@/test/support/close-after-each";
import { startReplicateApp, storedFormJob, type ReplicateAppOptions } from "@/test/support/replicate-app";
import { getEngine } from "@/lib/engines";
import { resetEnvCache } from "@/lib/env";
import { applyEvent, startRequest } from "@/lib/jobs/pipeline/advance";
import { isTerminal, type Job } from "@/lib/core/job";
import { sweep } from "@/lib/jobs/pipeline/sweep";
import { findStep } from "@/lib/jobs/domain/steps";
import { cronSweepResponse } from "@/lib/jobs/adapters/cron-sweep";

/**
 * The sweeper with nobody watching: no status request, no event stream, only sweeps (as the
 * cron route or the server's timer runs them), against the real `replicate` client and a
 * Replicate-compatible server. A crash is played by doing what the pipeline does up to the point
 * where the process would have died, and moving the step's start back past the create deadline.
 */

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;

closeAfterEach(
  () => app,
  () => fake,
);

async function setup(opts: ReplicateAppOptions & { appUrl: boolean }) {
  ({ app, fake } = await startReplicateApp({ startingMs: 100, processingMs: 600, ticks: 3 }, opts));
}

async function createQueued(prompt = "a heron standing in a misty pond"): Promise<Job> {
  const job = await storedFormJob(app!, { form: { prompt }, ownerId: "owner-sweep", llmEnhancer: false });
  // As the line admits it: these tests drive the pipeline's steps themselves.
  await applyEvent(job.id, { type: "admit" });
  return job;
}

/** Sweeps until the job has ended, as the timer would, and returns it. */
async function sweptToTheEnd(id: string): Promise<Job> {
  return (await waitFor(
    async () => {
      await sweep();
      return app!.store.get(id);
    },
    (j) => j !== null && isTerminal(j.status),
    30_000,
  ))!;
}

/** Claims the generate step, as the pipeline does before its create (the step's recorded intent). */
async function claimGenerate(id: string): Promise<Job> {
  await applyEvent(id, { type: "step.claim", step: "enhance", engine: "rules" });
  await applyEvent(id, { type: "step.complete", step: "enhance", attempt: 1, output: null });
  const claimed = await applyEvent(id, { type: "step.claim", step: "generate", engine: "replicate" });
  return claimed!.job;
}

/** The process died long ago: the step's claim is older than any create could take. */
async function crashedLongAgo(id: string): Promise<void> {
  const past = Date.now() - 10 * 60_000;
  await app!.store.update(id, (j) => ({
    ...j,
    lastEventAt: past,
    steps: j.steps.map((s) => (s.name === "generate" ? { ...s, startedAt: past } : s)),
  }));
}

const creates = () =>
  fake!.requests.filter((r) => r.method === "POST" && /\/predictions$/.test(r.path) && r.status === 201);

describe("the sweeper", () => {
  it("finishes a job whose completed webhook was dropped, with nobody watching, and saves our copy", async () => {
    await setup({ appUrl: true });
    fake!.dropDeliveries(["completed"]);
    const job = await createQueued();
    const { advance } = await import("@/lib/jobs/pipeline/advance");
    await advance(job.id);
    const [id] = [...fake!.predictions.keys()];
    await fake!.settled(id!);
    expect(fake!.dropped.some((d) => d.event === "completed")).toBe(true);
    expect((await app!.store.get(job.id))!.status).not.toBe("succeeded");

    const done = await sweptToTheEnd(job.id);
    expect(done.status).toBe("succeeded");
    expect(done.videoUrl).toMatch(new RegExp(`^/api/files/${job.id}/`));
    expect(fake!.requests.some((r) => r.path === `/files/${id}.mp4` && r.status === 200)).toBe(true);
    expect(creates()).toHaveLength(1);
  });

  it("adopts the run of a create that was answered but never recorded (no APP_URL), and pays for one run", async () => {
    await setup({ appUrl: false, fake: { listPageSize: 2 } });
    const job = await createQueued();
    // Other predictions after ours, so that the search goes through more than one page.
    const claimed = await claimGenerate(job.id);
    const engine = await getEngine("replicate");
    const { ref } = await engine.start(await startRequest(claimed, findStep(claimed, "generate")!));
    const other = await createQueued("a different prompt about a lighthouse");
    const otherClaimed = await claimGenerate(other.id);
    await engine.start(await startRequest(otherClaimed, findStep(otherClaimed, "generate")!));
    await engine.start(await startRequest(otherClaimed, findStep(otherClaimed, "generate")!));
    await crashedLongAgo(job.id);

    const done = await sweptToTheEnd(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "generate")).toMatchObject({ ref, attempt: 1 });
    expect(creates()).toHaveLength(3);
    expect(fake!.requests.filter((r) => r.path.startsWith("/v1/predictions?cursor=")).length).toBeGreaterThan(0);
  });

  it("with APP_URL and lost webhooks: adopts the run its webhook URL names and cancels a second one of the same attempt", async () => {
    await setup({
      appUrl: true,
      fake: { scenario: "lose-webhooks", timing: { startingMs: 100, processingMs: 3_000, ticks: 3 } },
    });
    const job = await createQueued();
    const claimed = await claimGenerate(job.id);
    const engine = await getEngine("replicate");
    const request = await startRequest(claimed, findStep(claimed, "generate")!);
    const first = await engine.start(request);
    const second = await engine.start(request);
    await crashedLongAgo(job.id);

    const done = await sweptToTheEnd(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "generate")!.ref).toBe(first.ref);
    expect((await fake!.settled(second.ref)).status).toBe("canceled");
    expect(creates()).toHaveLength(2);
  });

  it("starts the step again when its create never reached Replicate (died before the create)", async () => {
    await setup({ appUrl: false });
    const job = await createQueued();
    await claimGenerate(job.id);
    await crashedLongAgo(job.id);

    const done = await sweptToTheEnd(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "generate")!.attempt).toBe(2);
    expect(creates()).toHaveLength(1);
  });

  it("starts nothing while Replicate cannot say which runs exist", async () => {
    await setup({ appUrl: false });
    const job = await createQueued();
    await claimGenerate(job.id);
    await crashedLongAgo(job.id);
    await fake!.close();

    expect((await sweep()).ran).toBe(true);
    const after = (await app!.store.get(job.id))!;
    expect(findStep(after, "generate")).toMatchObject({ state: "running", attempt: 1, ref: null });
  });
});

describe("the cron route", () => {
  const call = (authorization?: string) =>
    cronSweepResponse(
      new Request("http://localhost/api/cron/sweep", { headers: authorization ? { authorization } : {} }),
    );

  it("answers 401 without the secret, with a wrong one, and while CRON_SECRET is unset", async () => {
    app = await startAppHarness({ env: { CRON_SECRET: "a-cron-secret-of-some-length" } });
    expect((await call()).status).toBe(401);
    expect((await call("Bearer a-cron-secret-of-some-lengtX")).status).toBe(401);
    expect((await call("a-cron-secret-of-some-length")).status).toBe(401);
    const ok = await call("Bearer a-cron-secret-of-some-length");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ran: true, tasks: { reconcile: 0, queue: 0 } });

    delete process.env.CRON_SECRET;
    resetEnvCache();
    const unset = await call("Bearer ");
    expect(unset.status).toBe(401);
    expect((await unset.json()).error.message).toMatch(/CRON_SECRET is not set/);
  });
});
