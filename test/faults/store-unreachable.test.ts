import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GET as health } from "@/app/api/health/route";
import { errorResponse } from "@/lib/errors";
import { log } from "@/lib/log";
import { STORE_UNAVAILABLE_DIGEST, UNREADABLE_RECORD_DIGEST } from "@/lib/store/types";
import type { HealthReport } from "@/lib/ops/health";
import { createStore } from "@/lib/store";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { waitFor } from "@/test/support/wait-for";
import { startLiveHarness } from "@/test/live/live-harness";
import { findRedisServer, freePort, redisAnswers } from "@/test/support/redis";
import { deliver, generatingJob, newWebhookId, refOf, tqdmLine, type Delivery } from "@/test/faults/support";
import { asOwner } from "@/test/support/owner";

const SESSION_SECRET = "a-session-secret-for-the-fault-tests";

/**
 * The job store goes away: every route answers 503 with Retry-After (JSON, nothing thrown, no
 * 500), the "Generate" action answers with a message saying so, a webhook refused that way is
 * not marked as seen, and all of it works again once the store is back, without restarting the
 * app.
 */

// The server action reads its request's cookies and headers; outside Next, one cookie jar.
const jar = vi.hoisted(() => new Map<string, string>());
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (jar.has(name) ? { name, value: jar.get(name)! } : undefined),
    set: (name: string, value: string) => void jar.set(name, value),
  }),
  headers: async () => new Headers({ "x-forwarded-for": "203.0.113.9" }),
}));

let app: AppHarness | null = null;
let redis: { child: ChildProcess; dir: string } | null = null;
/** errorResponse logs only unexpected errors (the ones that become 500s). */
let unexpected: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  unexpected = vi.spyOn(log, "error");
  jar.clear();
});

afterEach(async () => {
  unexpected.mockRestore();
  await app?.close();
  app = null;
  if (redis) {
    const { child, dir } = redis;
    redis = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
});

async function startRedisOn(port: number): Promise<void> {
  const binary = findRedisServer();
  if (!binary)
    throw new Error("This test starts its own redis-server: install Redis 7 so that redis-server is on PATH.");
  const dir = await mkdtemp(path.join(tmpdir(), "p2v-fault-redis-"));
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    {
      stdio: "ignore",
    },
  );
  redis = { child, dir };
  await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`), Boolean, 10_000);
}

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("unavailable");
  expect(body.error.message).toMatch(/unreachable/);
}

async function healthReport(): Promise<{ status: number; report: HealthReport; cache: string | null }> {
  const res = await health();
  return { status: res.status, report: (await res.json()) as HealthReport, cache: res.headers.get("cache-control") };
}

function processingDelivery(jobId: string): Delivery {
  const logs = [1, 2, 3].map((n) => tqdmLine(n, 10)).join("\n");
  return { jobId, webhookId: newWebhookId(), body: JSON.stringify({ id: refOf(jobId), status: "processing", logs }) };
}

describe("when the job store is unreachable", () => {
  it("answers 503 JSON with Retry-After on status, webhook and health, and throws nothing", async () => {
    // The owner cookie is signed with SESSION_SECRET (the store cannot keep one while it is down).
    app = await startAppHarness({
      env: { SESSION_SECRET },
      store: () => createStore({ kind: "redis", url: "redis://127.0.0.1:1" }, { prefix: "p2v-fault:" }),
    });
    const job = generatingJob();

    for (let i = 0; i < 3; i++) {
      await expectUnavailable(await fetch(`${app.origin}/api/status/${job.id}`, await asOwner()));
      await expectUnavailable(await deliver(app.origin, processingDelivery(job.id)));
    }
    const { status, report, cache } = await healthReport();
    expect(status).toBe(503);
    expect(cache).toBe("no-store");
    expect(report).toMatchObject({
      ok: false,
      status: "down",
      store: { kind: "redis", ok: false, error: "The job store is unreachable." },
    });
    expect(report.engines.replicate).toEqual({ configured: false });
    expect(JSON.stringify(report)).not.toContain("127.0.0.1");

    await app.settle();
    expect(unexpected).not.toHaveBeenCalled();
  });

  it("answers the event stream with 503 JSON, and keeps no subscription", async () => {
    const live = await startLiveHarness({
      env: { SESSION_SECRET },
      store: () => createStore({ kind: "redis", url: "redis://127.0.0.1:1" }, { prefix: "p2v-fault:" }),
    });
    app = live;
    const job = generatingJob();
    for (let i = 0; i < 3; i++) await expectUnavailable(await fetch(live.eventsUrl(job.id), await asOwner()));
    expect(live.subscriptions()).toBe(0);
    expect(unexpected).not.toHaveBeenCalled();
  });

  it("tells the store's errors by their digest: another bundle's copy of the classes may have thrown them", async () => {
    // instrumentation.ts, each route and the pages are separate module graphs sharing one store:
    // an error its store throws need not be an instance of the class this module imported.
    class ElsewhereUnavailable extends Error {
      readonly digest = STORE_UNAVAILABLE_DIGEST;
    }
    class ElsewhereUnreadable extends Error {
      readonly digest = UNREADABLE_RECORD_DIGEST;
      readonly record = "job x";
    }
    await expectUnavailable(errorResponse(new ElsewhereUnavailable("The job store is unreachable")));
    const unreadable = errorResponse(new ElsewhereUnreadable("cannot be read"));
    expect(unreadable.status).toBe(500);
    expect(((await unreadable.json()) as { error: { message: string } }).error.message).toMatch(/Nothing was deleted/);
    expect(unexpected).not.toHaveBeenCalled();
  });

  it.each([
    ["before the owner cookie can be signed (no SESSION_SECRET)", {}],
    ["when the job is stored (SESSION_SECRET set)", { SESSION_SECRET: "s".repeat(32) }],
  ])("refuses a new job with a message saying so, %s", async (_when, env) => {
    app = await startAppHarness({
      env,
      store: () => createStore({ kind: "redis", url: "redis://127.0.0.1:1" }, { prefix: "p2v-fault:" }),
    });
    const { createJob } = await import("@/lib/jobs/adapters/actions");
    const form = new FormData();
    for (const [k, v] of Object.entries({
      prompt: "a kite over a windy beach",
      style: "anime",
      model: "local/preview",
      enhance: "off",
      duration: "4",
    }))
      form.set(k, v);
    const state = await createJob({ status: "idle" }, form);
    expect(state).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/unreachable/),
      values: { prompt: "a kite over a windy beach" },
    });
    expect(unexpected).not.toHaveBeenCalled();
  });

  it("recovers when the store comes back, and applies a delivery it refused before", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    app = await startAppHarness({
      env: { SESSION_SECRET },
      store: () => createStore({ kind: "redis", url }, { prefix: "p2v-fault:" }),
    });
    const job = generatingJob();
    const refused = processingDelivery(job.id);

    await expectUnavailable(await fetch(`${app.origin}/api/status/${job.id}`, await asOwner()));
    await expectUnavailable(await deliver(app.origin, refused));
    expect((await healthReport()).status).toBe(503);

    await startRedisOn(port);
    // The client reconnects by itself (backoff of at most a second).
    await waitFor(
      () =>
        app!.store.ping().then(
          () => true,
          () => false,
        ),
      Boolean,
      10_000,
    );
    await app.store.create(job);

    const status = await fetch(`${app.origin}/api/status/${job.id}`, await asOwner());
    expect(status.status).toBe(200);
    expect(((await status.json()) as { id: string }).id).toBe(job.id);

    // Same webhook-id and signature as the refused try: a 503 must not have marked it as seen.
    const retried = await deliver(app.origin, refused);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ ok: true, applied: true });
    const stored = await app.store.get(job.id);
    expect(stored?.steps.find((s) => s.name === "generate")?.progress).toBe(30);

    const { status: healthStatus, report } = await healthReport();
    expect(healthStatus).toBe(200);
    expect(report).toMatchObject({
      ok: true,
      store: { kind: "redis", ok: true },
      engines: { local: { ok: true, ffmpeg: true } },
    });
    expect(report.store.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.version).toMatch(/^\d+\.\d+\.\d+/);

    await app.settle();
    expect(unexpected).not.toHaveBeenCalled();
  });
});
