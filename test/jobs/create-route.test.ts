import { describe, expect, it } from "vitest";
import { newOwnerCookie } from "@/lib/auth/owner";
import type { PublicJob } from "@/lib/core/job";
import { MAX_BODY_BYTES } from "@/lib/jobs/adapters/create-response";
import { DEFAULT_MODEL_ID, getModel } from "@/lib/models/registry";
import { createStore } from "@/lib/store";
import { DEFAULT_STYLE } from "@/lib/styles";
import { finishedJob, startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { replicateEnvOf, startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { closeAfterEach } from "@/test/support/close-after-each";

/**
 * POST /api/jobs: the Generate form as an API, on the same path as the form's server action
 * (validation, owner cookie, spend limits, then the engine after the answer).
 */

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;

closeAfterEach(
  () => app,
  () => fake,
);

type Created = { id: string; url: string; job: PublicJob; defaults: Record<string, unknown> };
type ErrorBody = { error: { code: string; message: string; fieldErrors?: Record<string, string> } };

const LOCAL = { prompt: "a paper boat on a rainy street", style: "anime", model: "local/preview", duration: 4 };
const REPLICATE = {
  prompt: "a hummingbird drinking from a flower",
  style: "photoreal",
  model: "wan-video/wan-2.2-t2v-fast",
  enhance: false,
  sound: false,
};

function post(body: unknown, opts: { cookie?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${app!.origin}/api/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The `name=value` part of the owner cookie the answer set. */
function ownerCookie(res: Response): string {
  const header = res.headers.get("set-cookie");
  expect(header).toMatch(/^p2v_owner=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax/);
  return header!.split(";")[0]!;
}

const finished = (id: string, timeoutMs = 30_000) => finishedJob(app!, id, timeoutMs);

async function withFakeReplicate(env: Record<string, string> = {}) {
  fake = await startFakeReplicate({ timing: { startingMs: 100, processingMs: 300, ticks: 2 } });
  app = await startAppHarness({
    env: {
      ...replicateEnvOf(fake),
      RECONCILE_AFTER_SECONDS: "1",
      ...env,
    },
  });
  process.env.APP_URL = app.origin;
  const { resetEnvCache } = await import("@/lib/env");
  resetEnvCache();
}

describe("POST /api/jobs", () => {
  it("creates a job from JSON, gives the browser its owner cookie, and the job finishes on the local engine", async () => {
    app = await startAppHarness();
    const res = await post(LOCAL);
    expect(res.status).toBe(201);
    const cookie = ownerCookie(res);
    const body = (await res.json()) as Created;
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.url).toBe(`${app.origin}/jobs/${body.id}`);
    expect(res.headers.get("location")).toBe(body.url);
    expect(body.job).toMatchObject({ id: body.id, status: "queued", prompt: LOCAL.prompt, model: "local/preview" });
    expect(JSON.stringify(body)).not.toContain("ownerId");

    const done = await finished(body.id);
    expect(done.status).toBe("succeeded");
    expect(done.videoUrl).toMatch(new RegExp(`^/api/files/${body.id}/[^/]+\\.mp4$`));

    // Form data works too, and a browser that has the cookie keeps its owner.
    const form = await fetch(`${app.origin}/api/jobs`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ ...LOCAL, duration: "4", prompt: "a kite over a beach" }).toString(),
    });
    expect(form.status).toBe(201);
    expect(form.headers.get("set-cookie")).toBeNull();
    const second = (await form.json()) as Created;
    expect((await app.store.get(second.id))?.ownerId).toBe(done.ownerId);
    await finished(second.id);
  });

  it("with a token, a prompt alone makes a job on the default AI model with the form's defaults, and says which were used", async () => {
    await withFakeReplicate();
    const res = await post({ prompt: "a red fox trotting through fresh snow" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Created;
    const model = getModel(DEFAULT_MODEL_ID);
    expect(model.engine).toBe("replicate");
    expect(body.defaults).toEqual({
      style: DEFAULT_STYLE,
      model: DEFAULT_MODEL_ID,
      duration: model.params.duration?.default,
      aspectRatio: model.params.aspectRatio?.default,
      resolution: model.params.resolution?.default,
      enhance: true,
      sound: false,
    });
    expect(body.job).toMatchObject({
      model: DEFAULT_MODEL_ID,
      engine: "replicate",
      style: DEFAULT_STYLE,
      options: { enhance: true, sound: false },
    });
    const done = await finished(body.id);
    expect(done.status).toBe("succeeded");
    // The video prediction ran on that model.
    expect([...fake!.predictions.values()].some((p) => p.prediction.model === DEFAULT_MODEL_ID)).toBe(true);

    // A field that is sent is kept, and not listed as a default.
    const named = (await (
      await post({ prompt: "a red fox trotting through fresh snow", style: "anime", enhance: false })
    ).json()) as Created;
    expect(named.defaults).not.toHaveProperty("style");
    expect(named.defaults).not.toHaveProperty("enhance");
    expect(named.job).toMatchObject({ style: "anime", options: { enhance: false } });
    await finished(named.id);
  });

  it("answers 400 with one message per field for an invalid job, and creates nothing", async () => {
    app = await startAppHarness();
    const res = await post({ prompt: "a", style: "no-such-style", model: "local/preview" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("bad_request");
    expect(body.error.fieldErrors).toEqual({
      prompt: "The prompt needs at least 3 characters.",
      style: "Pick one of the styles.",
    });
    const option = await post({ ...LOCAL, duration: 9 });
    expect(option.status).toBe(400);
    expect(((await option.json()) as ErrorBody).error.fieldErrors).toEqual({
      duration: "Local preview (not AI) supports length 4, 5, 6.",
    });
    expect(res.headers.get("set-cookie")).toBeNull();

    for (const [text, type] of [
      ["{not json", "application/json"],
      ["[1, 2]", "application/json"],
      ["prompt=hello", "text/plain"],
    ] as const) {
      const bad = await post(text, { headers: { "content-type": type } });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as ErrorBody).error.code).toBe("bad_request");
    }
    const huge = await post({ ...LOCAL, prompt: "x".repeat(MAX_BODY_BYTES) });
    expect(huge.status).toBe(413);
    const crossSite = await post(LOCAL, { headers: { origin: "https://evil.example" } });
    expect(crossSite.status).toBe(403);

    await app.settle();
    expect(await app.store.listRecent(10)).toEqual([]);
  });

  it("with the default limits, refuses a browser's 11th job in the hour with 429 and Retry-After, and calls no engine for it", async () => {
    await withFakeReplicate();
    const first = await post(REPLICATE);
    expect(first.status).toBe(201);
    const cookie = ownerCookie(first);
    const ids = [((await first.json()) as Created).id];
    // Two may run at once by default: start them two by two and let each pair finish.
    while (ids.length < 10) {
      const res = await post(REPLICATE, { cookie });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as Created).id);
      if (ids.length % 2 === 0) for (const id of ids.slice(-2)) expect((await finished(id)).status).toBe("succeeded");
    }
    expect(fake!.predictions.size).toBe(10);

    const refused = await post({ ...REPLICATE, prompt: "one too many" }, { cookie });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600).toBe(true);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toMatch(
      /^This browser has made its 10 videos for the hour; you can make another in .+\.$/,
    );

    await app!.settle();
    expect(fake!.predictions.size).toBe(10);
    const jobs = await app!.store.listRecent(50);
    expect(jobs).toHaveLength(10);
    expect(jobs.some((j) => j.prompt === "one too many")).toBe(false);
  });

  it("starts one of five simultaneous jobs from one browser when one may run at a time", async () => {
    app = await startAppHarness({ env: { MAX_RUNNING_JOBS_PER_BROWSER: "1", MAX_QUEUED_JOBS_PER_BROWSER: "0" } });
    const { setCookie } = await newOwnerCookie();
    const cookie = setCookie.split(";")[0]!;
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => post({ ...LOCAL, prompt: `clip number ${i}` }, { cookie })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 429, 429, 429, 429]);
    for (const res of answers.filter((r) => r.status === 429)) {
      expect(res.headers.get("retry-after")).toBe("30");
      expect(((await res.json()) as ErrorBody).error.message).toBe(
        "Your video is still being made; you can start another as soon as it finishes.",
      );
    }
    const jobs = await app.store.listRecent(10);
    expect(jobs).toHaveLength(1);
    await finished(jobs[0]!.id);
  });

  it("answers 503 JSON when the job store is unreachable", async () => {
    app = await startAppHarness({ store: () => createStore({ kind: "redis", url: "redis://127.0.0.1:1" }) });
    const res = await post(LOCAL);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await res.json()) as ErrorBody).error.code).toBe("unavailable");
  });
});
