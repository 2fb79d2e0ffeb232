/**
 * Dispatch latency: from the moment a job ends (its terminal transition, which frees its slot) to
 * the moment the next job's prediction exists at Replicate, measured in-process on each store
 * backend with MAX_RUNNING_JOBS=1. The app's server code runs as in production behind the test
 * app harness (POST /api/jobs, signed webhooks from the fake Replicate server, the save step); each
 * running prediction is ended on demand, so every hand-over starts from a real webhook. Run by
 * bench/run.ts as:
 *   node --conditions=react-server --import tsx bench/dispatch.ts
 * Prints one line `DISPATCH <json>`.
 */
import { startAppHarness } from "../test/support/app-harness";
import { startFakeReplicate } from "../test/support/fake-replicate";
import { waitFor } from "../test/support/wait-for";
import { withBenchRedis } from "./redis-backends";
import { percentile } from "./stats";
import { resetEnvCache } from "@/lib/env";
import { isTerminal } from "@/lib/core/job";
import { createStore } from "@/lib/store";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import type { JobStore } from "@/lib/store/types";

export type DispatchResult = { backend: JobStore["kind"]; samples: number; p50: number; p99: number; max: number };

const HANDOVERS = 20;
const FORM = {
  prompt: "a paper lantern drifting over a dark lake",
  style: "cinematic",
  model: "wan-video/wan-2.2-t2v-fast",
  enhance: false,
  sound: false,
};

async function measure(kind: JobStore["kind"], make: (dataDir: string) => JobStore): Promise<DispatchResult> {
  // Predictions run until ended on demand.
  const fake = await startFakeReplicate({ timing: { startingMs: 10, processingMs: 600_000, ticks: 1 } });
  const app = await startAppHarness({
    env: {
      REPLICATE_API_TOKEN: fake.token,
      REPLICATE_BASE_URL: fake.baseUrl,
      REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
      MAX_RUNNING_JOBS: "1",
      RATE_LIMITS: "off",
      LOG_LEVEL: "silent",
    },
    store: make,
  });
  process.env.APP_URL = app.origin;
  resetEnvCache();
  try {
    const ids: string[] = [];
    let cookie = "";
    for (let i = 0; i <= HANDOVERS; i++) {
      const res = await fetch(`${app.origin}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify(FORM),
      });
      if (res.status !== 201) throw new Error(`${kind}: POST /api/jobs answered ${res.status}`);
      cookie ||= res.headers.get("set-cookie")!.split(";")[0]!;
      ids.push(((await res.json()) as { id: string }).id);
    }
    const created = (id: string) => [...fake.predictions.values()].find((r) => r.webhook?.includes(id));
    const samples: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const rec = await waitFor(
        () => created(ids[i]!),
        (r) => r !== undefined,
        30_000,
      );
      fake.complete(rec!.prediction.id);
      const ended = await waitFor(
        () => app.store.get(ids[i]!),
        (j) => j !== null && isTerminal(j.status),
        30_000,
      );
      if (ended!.status !== "succeeded") throw new Error(`${kind}: a job ended ${ended!.status}: ${ended!.error}`);
      if (i + 1 === ids.length) break;
      const next = await waitFor(
        () => created(ids[i + 1]!),
        (r) => r !== undefined,
        30_000,
      );
      samples.push(Date.parse(next!.prediction.created_at) - ended!.completedAt!);
    }
    await app.settle();
    return {
      backend: kind,
      samples: samples.length,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: Math.max(...samples),
    };
  } finally {
    await app.close();
    await fake.close();
  }
}

async function main(): Promise<void> {
  const results: DispatchResult[] = [await measure("embedded", (dir) => new EmbeddedStore({ dir, retentionDays: 30 }))];
  await withBenchRedis("p2v-bench-dispatch-", async (redis) => {
    results.push(await measure("redis", () => createStore({ kind: "redis", url: redis.url }, redis.opts)));
    await redis.dropKeys();
    results.push(
      await redis.withUpstash((rest) =>
        measure("upstash", () => createStore({ kind: "upstash", url: rest.url, token: rest.token }, redis.opts)),
      ),
    );
  });
  console.log(`DISPATCH ${JSON.stringify(results)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
