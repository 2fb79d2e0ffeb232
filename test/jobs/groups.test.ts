import { describe, expect, it } from "vitest";
import type { PublicJob } from "@/lib/core/job";
import { finishedJob, startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { replicateEnvOf, startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { closeAfterEach } from "@/test/support/close-after-each";

/**
 * Takes and model comparisons through POST /api/jobs: one submission makes a group of jobs,
 * each counted by the spend limits, all refused together when they do not fit.
 */

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;
closeAfterEach(
  () => app,
  () => fake,
);

type Created = { id: string; job: PublicJob; group?: { id: string; kind: string; url: string; jobs: PublicJob[] } };
type ErrorBody = { error: { code: string; message: string; fieldErrors?: Record<string, string> } };

function post(body: unknown, cookie?: string): Promise<Response> {
  return fetch(`${app!.origin}/api/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

describe("groups", () => {
  it("makes 3 takes of one prompt with seeds one apart, linked as one group, each finishing", async () => {
    app = await startAppHarness({ env: { MAX_RUNNING_JOBS_PER_BROWSER: "4" } });
    const res = await post({
      prompt: "a paper boat on a rainy street",
      model: "local/preview",
      seed: 41,
      takes: 3,
      enhance: false,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Created;
    expect(body.group?.kind).toBe("takes");
    expect(body.group?.url).toBe(`${app.origin}/groups/${body.id}`);
    const members = body.group!.jobs;
    expect(members.map((j) => j.params.seed)).toEqual([41, 42, 43]);
    expect(members.map((j) => j.group?.members)).toEqual([
      members.map((j) => j.id),
      members.map((j) => j.id),
      members.map((j) => j.id),
    ]);
    for (const j of members) expect((await finishedJob(app, j.id, 60_000)).status).toBe("succeeded");
  });

  it("counts every member against the limits and refuses them all together", async () => {
    app = await startAppHarness({ env: { RATE_LIMIT_PER_BROWSER_PER_HOUR: "4", MAX_RUNNING_JOBS_PER_BROWSER: "4" } });
    const first = await post({ prompt: "one and two", model: "local/preview", takes: 2, enhance: false });
    expect(first.status).toBe(201);
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    const made = (await first.json()) as Created;
    for (const j of made.group!.jobs) await finishedJob(app, j.id, 60_000);

    // 2 of 4 used: 3 more do not fit, so none is made.
    const refused = await post({ prompt: "three more", model: "local/preview", takes: 3, enhance: false }, cookie);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as ErrorBody).error.message).toMatch(
      /^This browser has made its 4 videos for the hour/,
    );
    await app.settle();
    expect(await app.store.listRecent(10)).toHaveLength(2);

    // The refusal gave back what it took: 2 still fit.
    const fits = await post({ prompt: "two more", model: "local/preview", takes: 2, enhance: false }, cookie);
    expect(fits.status).toBe(201);
    for (const j of ((await fits.json()) as Created).group!.jobs) await finishedJob(app, j.id, 60_000);
  });

  it("refuses more takes than may run at once, with a sentence that says so", async () => {
    app = await startAppHarness({ env: { MAX_RUNNING_JOBS_PER_BROWSER: "2", MAX_QUEUED_JOBS_PER_BROWSER: "0" } });
    const res = await post({ prompt: "too many at once", model: "local/preview", takes: 3 });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await res.json()) as ErrorBody).error.message).toBe(
      "This site takes at most 2 videos per browser at once (running or waiting in line), so 3 at once cannot start; make fewer.",
    );
    expect(await app.store.listRecent(10)).toEqual([]);
  });

  it("runs one prompt on 2 models (each with the settings it supports) and checks the choice", async () => {
    fake = await startFakeReplicate({ timing: { startingMs: 50, processingMs: 200, ticks: 2 } });
    app = await startAppHarness({
      env: replicateEnvOf(fake),
    });
    const bad = await post({
      prompt: "a hummingbird at a flower",
      model: "wan-video/wan-2.2-t2v-fast",
      compare: "wan-video/wan-2.2-t2v-fast",
    });
    expect(((await bad.json()) as ErrorBody).error.fieldErrors?.compare).toBe("Pick each model to compare once.");
    const both = await post({
      prompt: "a hummingbird at a flower",
      model: "local/preview",
      compare: "google/veo-3-fast",
      takes: 2,
    });
    expect(((await both.json()) as ErrorBody).error.fieldErrors?.takes).toBe(
      "Make several takes, or compare models: not both at once.",
    );

    const res = await post({
      prompt: "a hummingbird at a flower",
      model: "bytedance/seedance-1-lite",
      duration: 10,
      compare: "wan-video/wan-2.2-t2v-fast",
      enhance: false,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Created;
    expect(body.group?.kind).toBe("models");
    expect(body.group!.jobs.map((j) => [j.model, j.params.duration])).toEqual([
      ["bytedance/seedance-1-lite", 10],
      // Wan has no 10 s: its own default.
      ["wan-video/wan-2.2-t2v-fast", 5],
    ]);
    for (const j of body.group!.jobs) expect((await finishedJob(app, j.id)).status).toBe("succeeded");
    expect(new Set([...fake.predictions.values()].map((p) => p.prediction.model))).toEqual(
      new Set(["bytedance/seedance-1-lite", "wan-video/wan-2.2-t2v-fast"]),
    );
  });
});
