import { parseProgressFromLogs } from "replicate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createReplicateClient, DEFAULT_RETRY_POLICY } from "@/lib/engines/replicate/client";
import { ReplicateEngine, WEBHOOK_EVENTS } from "@/lib/engines/replicate/replicate-engine";
import { EngineError } from "@/lib/engines/types";
import { ENHANCER_MODEL, readUrlOutput, SOUND_MODEL } from "@/lib/models/registry";
import { makeJob } from "@/test/support/job-factory";
import { startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { startReceiver } from "./webhook-receiver";

const VIDEO_MODEL = "wan-video/wan-2.2-t2v-fast";
const job = makeJob({ engine: "replicate", model: VIDEO_MODEL });
const fast = { baseDelayMs: 20 };

let fake: FakeReplicate;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let failCompleted = 0;

function engineFor(f: FakeReplicate, retry = {}, auth = f.token, timeoutMs?: number) {
  const client = createReplicateClient({ auth, baseUrl: f.baseUrl, timeoutMs });
  return new ReplicateEngine({ client, retry: { ...fast, ...retry } });
}

/** A retry policy on a virtual clock: its waits are recorded and pass at once. */
function virtualClock() {
  const clock = { t: 0, slept: [] as number[] };
  const retry = {
    baseDelayMs: DEFAULT_RETRY_POLICY.baseDelayMs,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.t += ms;
    },
  };
  return { clock, retry };
}

const creates = (f: FakeReplicate) => f.requests.filter((r) => r.method === "POST" && !r.path.endsWith("/cancel"));

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

beforeAll(async () => {
  fake = await startFakeReplicate({ webhookRetryDelaysMs: [50, 100, 200] });
  receiver = await startReceiver(fake.signingSecret, (r) =>
    r.payload.status !== "starting" && r.payload.status !== "processing" && failCompleted-- > 0 ? 500 : 200,
  );
});

afterEach(() => {
  fake.resetScenarios();
  failCompleted = 0;
});

afterAll(async () => {
  await fake?.close();
  await receiver?.close();
});

describe("ReplicateEngine.start", () => {
  it("creates an official-model prediction with the webhook and all four events, then delivers signed webhooks", async () => {
    const input = { prompt: "a lighthouse at dusk", num_frames: 81 };
    const hook = `${receiver.url}?job=${job.id}&step=generate&attempt=1`;
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: hook, input });

    const record = fake.predictions.get(ref);
    expect(record?.prediction.model).toBe(VIDEO_MODEL);
    expect(record?.body).toEqual({ input, webhook: hook, webhook_events_filter: [...WEBHOOK_EVENTS] });

    const final = await fake.settled(ref);
    expect(final.status).toBe("succeeded");
    expect(readUrlOutput(final.output)).toBe(`${fake.origin}/files/${ref}.mp4`);

    const mine = receiver.received.filter((r) => r.payload.id === ref);
    expect(mine.every((r) => r.verified && r.url.includes(`job=${job.id}`))).toBe(true);
    expect(mine[0]?.payload.status).toBe("starting");
    expect(mine.at(-1)?.payload.status).toBe("succeeded");
    expect(new Set(mine.map((r) => r.webhookId)).size).toBe(mine.length);

    const intermediate = fake.deliveries.filter((d) => d.predictionId === ref && d.event === "logs");
    expect(intermediate.length).toBeGreaterThan(0);
    for (let i = 1; i < intermediate.length; i++) {
      expect(intermediate[i]!.at - intermediate[i - 1]!.at).toBeGreaterThanOrEqual(450);
    }
  });

  it("reports tqdm progress that parseProgressFromLogs reads once \\r becomes \\n", async () => {
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    const logs = (await fake.settled(ref)).logs;
    expect(logs).toContain("\r");
    // Without the replacement the client reads the first value of the carriage-returned line.
    expect(parseProgressFromLogs(logs)?.percentage).toBeLessThan(1);
    expect(parseProgressFromLogs(logs.replace(/\r/g, "\n"))).toEqual({ percentage: 1, current: 100, total: 100 });
  });

  it("omits the webhook when there is no URL", async () => {
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    expect(fake.predictions.get(ref)?.body).toEqual({ input: { prompt: "x" } });
  });

  it("runs the sound model by pinned version and the enhancer as an LLM", async () => {
    const engine = engineFor(fake);
    const sound = await engine.start({ job, step: "sound", webhookUrl: null, input: { video: "https://x/y.mp4" } });
    expect(fake.predictions.get(sound.ref)?.body.version).toBe(SOUND_MODEL.ref.version);
    expect(fake.requests.some((r) => r.path === "/v1/predictions" && r.status === 201)).toBe(true);

    const enhance = await engine.start({ job, step: "enhance", webhookUrl: null, input: { prompt: "p" } });
    await fake.settled(enhance.ref);
    const prediction = await engine.get(enhance.ref);
    expect(Array.isArray(prediction?.output)).toBe(true);
    expect(ENHANCER_MODEL.readOutput(prediction?.output)).toBe("A slow dolly shot of a lighthouse at dusk.");
  });

  it("runs the job's model as the registry names it, and refuses one that does not run on Replicate", async () => {
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    expect(fake.predictions.get(ref)?.prediction.model).toBe(VIDEO_MODEL);
    const before = creates(fake).length;
    const error = await rejection(
      engineFor(fake).start({
        job: makeJob({ model: "local/preview" }),
        step: "generate",
        webhookUrl: null,
        input: { prompt: "x" },
      }),
    );
    expect(error.code).toBe("invalid_input");
    expect(creates(fake)).toHaveLength(before);
  });
});

describe("create errors", () => {
  it("does not wait out a 429 for a job's step: it says how long Replicate asked to wait, so the job goes back in line", async () => {
    const limited = await startFakeReplicate({
      scenario: "rate-limit-create",
      rateLimitCount: Infinity,
      retryAfterSeconds: 7,
    });
    try {
      const client = createReplicateClient({ auth: limited.token, baseUrl: limited.baseUrl });
      const error = await rejection(
        new ReplicateEngine({ client }).start({ job, step: "generate", webhookUrl: null, input: {} }),
      );
      expect(error).toMatchObject({ code: "rate_limited", retryAfterSeconds: 7 });
      expect(creates(limited)).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });

  // The retry policy itself (what the Enhance button's create uses) is tested through the engine with it turned on.
  const waiting = { retryRateLimited: true };

  it("retries a 429 after its Retry-After and then succeeds, one request per try", async () => {
    fake.setScenario("rate-limit-create");
    const before = creates(fake).length;
    const { clock, retry } = virtualClock();
    const { ref } = await engineFor(fake, { ...waiting, ...retry }).start({
      job,
      step: "generate",
      webhookUrl: null,
      input: { prompt: "x" },
    });
    // Retry-After: 1 (seconds), honoured before each new try.
    expect(clock.slept).toEqual([1_000, 1_000]);
    expect(
      creates(fake)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([429, 429, 201]);
    expect(fake.predictions.has(ref)).toBe(true);
  });

  it("gives up on a persistent 429 within its bounds, with a rate-limit message", async () => {
    const limited = await startFakeReplicate({ scenario: "rate-limit-create", rateLimitCount: Infinity });
    try {
      const first = virtualClock();
      const error = await rejection(
        engineFor(limited, { ...waiting, ...first.retry, maxTries: 3 }).start({
          job,
          step: "generate",
          webhookUrl: null,
          input: {},
        }),
      );
      expect(first.clock.slept).toEqual([1_000, 1_000]);
      expect(error.code).toBe("rate_limited");
      expect(error.message).toMatch(/rate-limiting.*try again in 1 s/);
      expect(creates(limited)).toHaveLength(3);

      // A wait past maxTotalMs is not even started.
      const second = virtualClock();
      await rejection(
        engineFor(limited, { ...waiting, ...second.retry, maxTotalMs: 500 }).start({
          job,
          step: "generate",
          webhookUrl: null,
          input: {},
        }),
      );
      expect(second.clock.slept).toEqual([]);
      expect(creates(limited)).toHaveLength(4);
    } finally {
      await limited.close();
    }
  });

  it("waits out Replicate's usual 30 s Retry-After within the default bounds", async () => {
    const limited = await startFakeReplicate({
      scenario: "rate-limit-create",
      rateLimitCount: 1,
      retryAfterSeconds: 30,
    });
    try {
      const { clock, retry } = virtualClock();
      const { ref } = await engineFor(limited, { ...waiting, ...retry }).start({
        job,
        step: "generate",
        webhookUrl: null,
        input: {},
      });
      expect(limited.predictions.has(ref)).toBe(true);
      expect(clock.slept).toEqual([30_000]);
      expect(creates(limited).map((r) => r.status)).toEqual([429, 201]);
    } finally {
      await limited.close();
    }
  });

  it("gives up on a persistent 30 s Retry-After once another wait would pass the bound", async () => {
    const limited = await startFakeReplicate({
      scenario: "rate-limit-create",
      rateLimitCount: Infinity,
      retryAfterSeconds: 30,
    });
    try {
      const { clock, retry } = virtualClock();
      const error = await rejection(
        engineFor(limited, { ...waiting, ...retry }).start({ job, step: "generate", webhookUrl: null, input: {} }),
      );
      expect(error.code).toBe("rate_limited");
      expect(clock.slept).toEqual([30_000, 30_000]);
      expect(clock.t).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxTotalMs);
      expect(creates(limited)).toHaveLength(3);
    } finally {
      await limited.close();
    }
  });

  it.each([
    ["http-401", "auth", /API token was rejected/],
    ["http-402", "billing", /no credit/],
    ["http-422", "invalid_input", /refused the input.*input\.prompt: Invalid type/],
  ] as const)("maps %s to %s, without sending the create again", async (scenario, code, message) => {
    fake.setScenario(scenario);
    const before = creates(fake).length;
    const error = await rejection(engineFor(fake).start({ job, step: "generate", webhookUrl: null, input: {} }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(creates(fake).length - before).toBe(1);
  });

  it("retries a 5xx with backoff, bounded, then says Replicate is having trouble", async () => {
    fake.setScenario("http-500");
    const before = creates(fake).length;
    const { clock, retry } = virtualClock();
    const error = await rejection(
      engineFor(fake, { ...retry, maxTries: 3 }).start({ job, step: "generate", webhookUrl: null, input: {} }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/having trouble.*HTTP 500/);
    expect(creates(fake).length - before).toBe(3);
    expect(clock.slept).toEqual([1_000, 2_000]);
  });

  it("abandons a create that gets no answer, and does not send it again", async () => {
    const slow = await startFakeReplicate({ createDelayMs: 2_000 });
    try {
      const error = await rejection(
        engineFor(slow, {}, slow.token, 300).start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } }),
      );
      expect(error.code).toBe("outcome_unknown");
      // The run did start: a second create would be a second paid run.
      expect(slow.predictions.size).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it("maps a wrong token to auth", async () => {
    const error = await rejection(
      engineFor(fake, {}, "r8_wrong").start({ job, step: "generate", webhookUrl: null, input: {} }),
    );
    expect(error.code).toBe("auth");
  });

  it("maps an unreachable server to unavailable after bounded retries", async () => {
    const gone = await startFakeReplicate();
    await gone.close();
    const error = await rejection(engineFor(gone).start({ job, step: "generate", webhookUrl: null, input: {} }));
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/not reachable/);
  });
});

describe("get and cancel", () => {
  it("cancels a running prediction, which then reports canceled and sends its completed webhook", async () => {
    const engine = engineFor(fake);
    const { ref } = await engine.start({ job, step: "generate", webhookUrl: receiver.url, input: { prompt: "x" } });
    await engine.cancel(ref);
    expect((await engine.get(ref))?.status).toBe("canceled");
    await fake.settled(ref);
    expect(receiver.received.filter((r) => r.payload.id === ref).at(-1)?.payload.status).toBe("canceled");
  });

  it("maps a prediction to the engine's shape and answers null for unknown or malformed ids", async () => {
    const engine = engineFor(fake);
    const { ref } = await engine.start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    const first = await engine.get(ref);
    expect(first).toMatchObject({ id: ref, status: "starting", model: VIDEO_MODEL, data_removed: false });
    expect(await engine.get("zzzzzzzzzzzzzzzzzzzzzzzzzz")).toBeNull();
    expect(await engine.get("../models")).toBeNull();
    await expect(engine.cancel("zzzzzzzzzzzzzzzzzzzzzzzzzz")).resolves.toBeUndefined();
  });

  it.each([
    ["fail", "failed"],
    ["abort", "aborted"],
    ["cancel-upstream", "canceled"],
  ] as const)("reports scenario %s as %s", async (scenario, status) => {
    fake.setScenario(scenario, VIDEO_MODEL);
    const engine = engineFor(fake);
    const { ref } = await engine.start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    await fake.settled(ref);
    const prediction = await engine.get(ref);
    expect(prediction?.status).toBe(status);
    if (scenario === "fail") expect(prediction?.error).toMatch(/CUDA out of memory/);
    if (scenario === "abort") expect(prediction?.started_at).toBeNull();
  });

  it("reports deleted outputs like Replicate after an hour", async () => {
    const engine = engineFor(fake);
    const { ref } = await engine.start({ job, step: "generate", webhookUrl: null, input: { prompt: "x" } });
    await fake.settled(ref);
    expect((await fetch(`${fake.origin}/files/${ref}.mp4`)).status).toBe(200);
    fake.deleteOutputs();
    expect(await engine.get(ref)).toMatchObject({ status: "succeeded", output: null, data_removed: true });
    expect((await fetch(`${fake.origin}/files/${ref}.mp4`)).status).toBe(404);
  });
});

describe("webhook scenarios of the fake", () => {
  const run = async (scenario: Parameters<FakeReplicate["setScenario"]>[0]) => {
    fake.setScenario(scenario);
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: receiver.url, input: {} });
    await fake.settled(ref);
    return { ref, got: receiver.received.filter((r) => r.payload.id === ref) };
  };

  it("retries only the completed webhook, keeping its webhook-id", async () => {
    failCompleted = 2;
    const { ref } = await run("success");
    const completed = fake.deliveries.filter((d) => d.predictionId === ref && d.event === "completed");
    expect(completed.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(new Set(completed.map((d) => d.webhookId)).size).toBe(1);
  });

  it("duplicate-webhooks sends every delivery twice with the same id", async () => {
    const { got } = await run("duplicate-webhooks");
    const ids = got.map((r) => r.webhookId);
    expect(ids.length).toBe(new Set(ids).size * 2);
  });

  it("out-of-order sends a stale logs delivery after completed", async () => {
    const { got } = await run("out-of-order");
    const done = got.findIndex((r) => r.payload.status === "succeeded");
    const last = got.at(-1)!;
    expect(done).toBeLessThan(got.length - 1);
    expect(last.payload.status).toBe("processing");
    expect((last.payload.logs ?? "").length).toBeLessThan((got[done]!.payload.logs ?? "").length);
  });

  it("lose-webhooks sends nothing, while get still reports the result", async () => {
    const { ref, got } = await run("lose-webhooks");
    expect(got).toHaveLength(0);
    expect((await engineFor(fake).get(ref))?.status).toBe("succeeded");
  });

  it("no-progress prints no tqdm lines", async () => {
    fake.setScenario("no-progress");
    const { ref } = await engineFor(fake).start({ job, step: "generate", webhookUrl: null, input: {} });
    const logs = (await fake.settled(ref)).logs;
    expect(logs.length).toBeGreaterThan(0);
    expect(parseProgressFromLogs(logs.replace(/\r/g, "\n"))).toBeNull();
  });
});
