import { existsSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { finishedJob, type AppHarness } from "../support/app-harness";
import { waitFor } from "../support/wait-for";
import type { FakeReplicate } from "../support/fake-replicate";
import { dispatch, enqueueJob } from "@/lib/jobs/pipeline/dispatch";
import { advance, applyEvent } from "@/lib/jobs/pipeline/advance";
import { needsReconcile, reconcile } from "@/lib/jobs/pipeline/reconcile";
import type { Job } from "@/lib/core/job";
import { findStep } from "@/lib/jobs/domain/steps";
import { probeMedia } from "@/lib/media/ffmpeg";
import { webhookSigner } from "@/lib/webhooks/sign";
import { storedVideoPath } from "@/test/support/stored-video";
import { asOwner, TEST_OWNER_ID } from "@/test/support/owner";
import { closeAfterEach } from "@/test/support/close-after-each";
import { startReplicateApp, storedFormJob, type ReplicateAppOptions } from "@/test/support/replicate-app";

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;

closeAfterEach(
  () => app,
  () => fake,
);

async function setup(opts: ReplicateAppOptions = {}) {
  ({ app, fake } = await startReplicateApp({ startingMs: 150, processingMs: 800, ticks: 4 }, opts));
  return { app, fake };
}

function createStored(form: Record<string, string> = {}): Promise<Job> {
  return storedFormJob(app!, { form, ownerId: TEST_OWNER_ID, llmEnhancer: true });
}

/** A stored job the line has admitted, for tests that drive the pipeline's steps themselves. */
async function createQueued(form: Record<string, string> = {}): Promise<Job> {
  const job = await createStored(form);
  await applyEvent(job.id, { type: "admit" });
  return job;
}

/** A stored job that joins the line and starts as the line lets it. */
async function createAndStart(form: Record<string, string> = {}): Promise<Job> {
  const job = await createStored(form);
  await enqueueJob(job);
  await dispatch();
  return job;
}

/** What reconciliation does to a step it presumes lost: back to waiting, then a new attempt. */
async function giveUpAttempt(jobId: string, attempt: number): Promise<void> {
  await applyEvent(jobId, { type: "step.reset", step: "generate", attempt, reason: "Presumed lost." });
  await advance(jobId);
}

const cancelsOf = (id: string) =>
  fake!.requests.filter((r) => r.method === "POST" && r.path === `/v1/predictions/${id}/cancel`);

const finished = (id: string, timeoutMs = 60_000) => finishedJob(app!, id, timeoutMs);

describe("Replicate engine through signed webhooks", () => {
  it("ends with a video served from our own storage that outlives the provider's copy", async () => {
    await setup();
    const job = await createAndStart();
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    const record = [...fake!.predictions.values()][0]!;
    expect(record.webhook).toContain(`${app!.origin}/api/webhook?job=${job.id}&step=generate`);
    expect(record.webhookEventsFilter).toEqual(["start", "output", "logs", "completed"]);
    expect(record.body.input).toMatchObject({ num_frames: 81, aspect_ratio: "16:9", resolution: "480p" });
    expect(fake!.deliveries.filter((d) => d.status === 200).length).toBeGreaterThan(1);
    expect(done.videoUrl).toMatch(new RegExp(`^/api/files/${job.id}/[a-z0-9-]+\\.mp4$`));
    fake!.deleteOutputs();
    const file = storedVideoPath(app!.dataDir, done);
    expect((await probeMedia(file)).video?.codec).toBe("h264");
    const status = await (await fetch(`${app!.origin}/api/status/${job.id}`, await asOwner())).text();
    expect(status).not.toContain(fake!.origin);
  });

  it("reports generation progress from the prediction's logs on the way", async () => {
    await setup({ fake: { timing: { startingMs: 100, processingMs: 2500, ticks: 5 } } });
    const job = await createAndStart();
    const seen = await waitFor(
      () => app!.store.get(job.id),
      (j) => (findStep(j!, "generate")?.progress ?? 0) > 0 && findStep(j!, "generate")!.state === "running",
    );
    expect(seen!.status).toBe("processing");
    expect(seen!.message).toMatch(/Generating the video… \d+%/);
    await finished(job.id);
  });

  it("still finishes when APP_URL is unset (no webhooks): it asks Replicate instead", async () => {
    await setup({ appUrl: false });
    const job = await createAndStart();
    const record = [...fake!.predictions.values()][0]!;
    expect(record.webhook).toBeNull();
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(existsSync(storedVideoPath(app!.dataDir, done))).toBe(true);
  });

  it("still finishes when every webhook is lost", async () => {
    await setup({ fake: { scenario: "lose-webhooks" } });
    const job = await createAndStart();
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(fake!.deliveries).toHaveLength(0);
  });

  it.each([
    ["fail", "failed", /model failed/i],
    ["abort", "failed", /aborted/i],
    ["cancel-upstream", "canceled", /canceled/i],
  ] as const)("ends the job when the prediction ends %s", async (scenario, status, message) => {
    await setup({ fake: { scenario } });
    const job = await createAndStart();
    const done = await finished(job.id);
    expect(done.status).toBe(status);
    expect(done.message).toMatch(message);
  });

  it("is safe under duplicate and out-of-order deliveries", async () => {
    await setup({ fake: { scenario: "duplicate-webhooks" } });
    const a = await createAndStart();
    expect((await finished(a.id)).status).toBe("succeeded");
    fake!.setScenario("out-of-order");
    const b = await createAndStart();
    const done = await finished(b.id);
    await fake!.settled([...fake!.predictions.keys()].at(-1)!);
    expect(done.status).toBe("succeeded");
    expect((await app!.store.get(b.id))!.seq).toBe(done.seq);
  });

  it("refuses missing, wrong and 10-minute-old signatures with 401, and a replay changes nothing", async () => {
    await setup();
    const job = await createAndStart();
    const done = await finished(job.id);
    const body = JSON.stringify({ id: "p-evil", status: "failed", error: "forged" });
    const url = `${app!.origin}/api/webhook?job=${job.id}&step=generate&attempt=1`;
    const post = (headers: Record<string, string>, payload = body) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: payload });
    const sign = webhookSigner(fake!.signingSecret);
    const stale = new Date(Date.now() - 10 * 60 * 1000);
    const wrong = webhookSigner(`whsec_${Buffer.from("not the secret at all, nope").toString("base64")}`);
    const attempts: Record<string, string>[] = [{}, wrong(body, "msg_1"), sign(body, "msg_2", stale)];
    for (const headers of attempts) {
      const res = await post(headers);
      expect(res.status).toBe(401);
    }
    const delivered = fake!.deliveries.find((d) => d.status === 200 && d.event === "completed")!;
    const replayBody = JSON.stringify(delivered.payload);
    const replayAt = new Date();
    const replay = await fetch(`${app!.origin}/api/webhook?job=${job.id}&step=generate&attempt=1`, {
      method: "POST",
      headers: sign(replayBody, delivered.webhookId, replayAt),
      body: replayBody,
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ duplicate: true });
    expect((await app!.store.get(job.id))!.seq).toBe(done.seq);
  });

  it("asks Replicate about a quiet prediction at most once per RECONCILE_AFTER_SECONDS when webhooks work", async () => {
    // A cold boot: a long wait in "starting", during which Replicate sends nothing.
    await setup({ env: { RECONCILE_AFTER_SECONDS: "3" }, fake: { timing: { startingMs: 60_000 } } });
    const job = await createAndStart();
    const ref = [...fake!.predictions.keys()][0]!;
    const gets = () => fake!.requests.filter((r) => r.method === "GET" && r.path === `/v1/predictions/${ref}`).length;
    // The start delivery has been answered and applied: from here on the run is quiet.
    await waitFor(
      async () => fake!.predictions.get(ref)!.pendingDeliveries,
      (n) => n === 0,
    );
    await app!.settle();
    const quietFrom = (await app!.store.get(job.id))!.lastEventAt;
    // The app's clock (Date) is the test's from here; timers and I/O stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(quietFrom + 3_000);
      expect(needsReconcile((await app!.store.get(job.id))!, Date.now())).toBe(true);
      // reconcile() resolves after its request was answered, and the fake records a request before answering.
      await reconcile(job.id);
      expect(gets()).toBe(1);
      // Still quiet, and past the 2 s floor between checks, but within RECONCILE_AFTER_SECONDS of the last one.
      vi.setSystemTime(quietFrom + 5_200);
      expect(needsReconcile((await app!.store.get(job.id))!, Date.now())).toBe(true);
      await reconcile(job.id);
      expect(gets()).toBe(1);
      vi.setSystemTime(quietFrom + 6_100);
      await reconcile(job.id);
      expect(gets()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers an unsigned request with 401 without asking Replicate for its signing secret", async () => {
    await setup({ env: { REPLICATE_WEBHOOK_SIGNING_SECRET: "" } });
    const job = await createQueued();
    const res = await fetch(`${app!.origin}/api/webhook?job=${job.id}&step=generate&attempt=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "p-unsigned", status: "failed", error: "forged" }),
    });
    expect(res.status).toBe(401);
    expect(fake!.requests.filter((r) => r.path === "/v1/webhooks/default/secret")).toHaveLength(0);
  });

  it("backs off on 429 when creating, then runs", async () => {
    await setup({ fake: { scenario: "rate-limit-create", rateLimitCount: 1, retryAfterSeconds: 1 } });
    const job = await createAndStart();
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(fake!.requests.filter((r) => r.method === "POST" && r.path.includes("/predictions")).length).toBe(2);
  });

  it("retries a create that got a 5xx, and cancels the extra run should the failed create have started one", async () => {
    await setup();
    const job = await createQueued();
    fake!.setScenario("http-500-after-create");
    const starting = advance(job.id);
    // Only the first create fails (after starting its run); the retry, a second later, succeeds.
    await waitFor(
      async () => fake!.predictions.size,
      (n) => n === 1,
    );
    fake!.resetScenarios();
    await starting;
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(fake!.predictions.size).toBe(2);
    const kept = findStep(done, "generate")!.ref!;
    const [extra] = [...fake!.predictions.keys()].filter((id) => id !== kept);
    expect((await fake!.settled(extra!)).status).toBe("canceled");
    expect(cancelsOf(extra!)).toHaveLength(1);
  });

  it("retries a create that got a 5xx without webhooks too, and runs once", async () => {
    await setup({ appUrl: false });
    const job = await createQueued();
    fake!.setScenario("http-500");
    const starting = advance(job.id);
    await waitFor(
      async () => fake!.requests.filter((r) => r.method === "POST" && r.path.includes("/predictions")).length,
      (n) => n === 1,
    );
    fake!.resetScenarios();
    await starting;
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(fake!.predictions.size).toBe(1);
    expect(
      fake!.requests.filter((r) => r.method === "POST" && r.path.includes("/predictions")).map((r) => r.status),
    ).toEqual([500, 201]);
  });

  it("cancels a run whose create answered after its attempt was given up, and finishes with the next one", async () => {
    await setup({
      appUrl: false,
      fake: { createDelayMs: 1_000, slowCreates: 1, timing: { startingMs: 100, processingMs: 2_500, ticks: 5 } },
    });
    const job = await createQueued();
    const firstAttempt = advance(job.id);
    await waitFor(
      async () => fake!.predictions.size,
      (n) => n === 1,
    );
    await giveUpAttempt(job.id, 1);
    await firstAttempt;
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    const [stale, kept] = [...fake!.predictions.keys()];
    expect(findStep(done, "generate")!.ref).toBe(kept);
    expect((await fake!.settled(stale!)).status).toBe("canceled");
    expect(cancelsOf(stale!)).toHaveLength(1);
  });

  it("cancels, once, a run whose (duplicated) deliveries name an attempt that was given up", async () => {
    await setup({
      fake: { scenario: "duplicate-webhooks", timing: { startingMs: 100, processingMs: 2_500, ticks: 5 } },
    });
    const job = await createAndStart();
    const [stale] = [...fake!.predictions.keys()];
    // The run is under way and its deliveries come twice: give its attempt up only then, so that
    // what it sends next names an attempt that is over (however fast the machine is).
    const staleProcessing = () =>
      fake!.deliveries.filter((d) => d.predictionId === stale && d.payload.status === "processing").length;
    await waitFor(staleProcessing, (n) => n >= 2);
    await giveUpAttempt(job.id, 1);
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "generate")!.ref).not.toBe(stale);
    expect((await fake!.settled(stale!)).status).toBe("canceled");
    expect(cancelsOf(stale!)).toHaveLength(1);
  });

  it.each([
    ["http-401", /token/i],
    ["http-402", /credit|billing/i],
    ["http-422", /input|invalid/i],
  ] as const)("fails with a sentence a user understands on %s", async (scenario, message) => {
    await setup({ fake: { scenario } });
    const job = await createAndStart();
    const done = await finished(job.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(message);
  });

  it("runs enhance, generate and sound as three verified predictions", async () => {
    await setup();
    const job = await createAndStart({ enhance: "on", sound: "on" });
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(fake!.predictions.size).toBe(3);
    const steps = new Set(
      fake!.deliveries
        .filter((d) => d.status === 200)
        .map(
          (d) =>
            [...fake!.predictions.values()]
              .find((p) => p.prediction.id === d.predictionId)
              ?.webhook?.match(/step=(\w+)/)?.[1],
        ),
    );
    expect(steps).toEqual(new Set(["enhance", "generate", "sound"]));
    expect(findStep(done, "enhance")!.engine).toBe("replicate");
    expect(done.enhancedPrompt).toBeTruthy();
    expect(done.finalPrompt).toBe(done.enhancedPrompt);
  });

  it("delivers the silent video with a notice when the sound step fails", async () => {
    await setup({
      fake: { models: { "62871fb59889b2d7c13777f08deb3b36bdff88f7e1d53a50ad7694548a41b484": { scenario: "fail" } } },
    });
    const job = await createAndStart({ sound: "on" });
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "sound")!.state).toBe("failed");
    expect(done.notice).toMatch(/silent video/);
    expect(done.videoUrl).toBeTruthy();
  });

  it("falls back to the rule-based enhancer when the LLM fails", async () => {
    await setup({ fake: { models: { "meta/meta-llama-3-8b-instruct": { scenario: "fail" } } } });
    const job = await createAndStart({ enhance: "on" });
    const done = await finished(job.id);
    expect(done.status).toBe("succeeded");
    expect(findStep(done, "enhance")!.engine).toBe("rules");
    expect(findStep(done, "enhance")!.note).toMatch(/rule-based/);
  });

  it("cancel ends the job canceled, asks Replicate to stop, and a late completion changes nothing", async () => {
    await setup({ fake: { timing: { startingMs: 100, processingMs: 3000, ticks: 6 } } });
    const job = await createAndStart();
    const running = await waitFor(
      () => app!.store.get(job.id),
      (j) => findStep(j!, "generate")!.ref !== null,
    );
    await applyEvent(job.id, { type: "cancel" });
    const { getEngine } = await import("@/lib/engines");
    await (await getEngine("replicate")).cancel(findStep(running!, "generate")!.ref!);
    const done = await finished(job.id);
    expect(done.status).toBe("canceled");
    // Replicate's own report of the end (and its retries) has been answered, and changed nothing.
    await fake!.settled(findStep(running!, "generate")!.ref!);
    await app!.settle();
    expect((await app!.store.get(job.id))!.status).toBe("canceled");
    expect(fake!.requests.some((r) => r.path.endsWith("/cancel"))).toBe(true);
  });
});
