import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { GET as health } from "@/app/api/health/route";
import { cachedCheck, healthResponse, type HealthReport } from "@/lib/ops/health";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";

/**
 * /api/health as an operator's monitor sees it: 503 when this instance cannot work (store down,
 * no ffmpeg), 200 "degraded" when only Replicate is not ready, and Replicate asked at most once
 * a minute.
 */

let app: AppHarness | null = null;
let fake: FakeReplicate | null = null;
let silent: Server | null = null;

afterEach(async () => {
  await app?.close();
  app = null;
  await fake?.close();
  fake = null;
  if (silent) {
    silent.closeAllConnections();
    await new Promise((resolve) => silent!.close(resolve));
    silent = null;
  }
});

async function read(res: Response): Promise<{ status: number; report: HealthReport }> {
  return { status: res.status, report: (await res.json()) as HealthReport };
}

const accountRequests = () => fake!.requests.filter((r) => r.path === "/v1/account").length;

describe("GET /api/health", () => {
  it("is ok with the store, ffmpeg and no Replicate token", async () => {
    app = await startAppHarness();
    const res = await health();
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { status, report } = await read(res);
    expect(status).toBe(200);
    expect(report).toMatchObject({
      ok: true,
      status: "ok",
      store: { kind: "embedded", ok: true },
      engines: { local: { ok: true, ffmpeg: true }, replicate: { configured: false } },
    });
  });

  it("answers 503 when ffmpeg cannot run: every local job would fail on this instance", async () => {
    app = await startAppHarness();
    const res = await healthResponse({ ffmpeg: () => Promise.reject(new Error("ffmpeg at /x is not executable")) });
    const { status, report } = await read(res);
    expect(status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(report).toMatchObject({
      ok: false,
      status: "down",
      store: { ok: true },
      engines: { local: { ok: false, ffmpeg: false } },
    });
  });

  it("checks the Replicate token against the API, and asks again at most once a minute", async () => {
    fake = await startFakeReplicate();
    app = await startAppHarness({ env: { REPLICATE_API_TOKEN: fake.token, REPLICATE_BASE_URL: fake.baseUrl } });
    const first = await read(await health());
    expect(first.status).toBe(200);
    expect(first.report).toMatchObject({
      ok: true,
      status: "ok",
      engines: { replicate: { configured: true, ok: true } },
    });
    for (let i = 0; i < 5; i++)
      expect((await read(await health())).report.engines.replicate).toEqual({ configured: true, ok: true });
    expect(accountRequests()).toBe(1);
  });

  it("reports a refused token as degraded (200): the instance still serves pages and local jobs", async () => {
    fake = await startFakeReplicate();
    app = await startAppHarness({ env: { REPLICATE_API_TOKEN: "r8_wrong_token", REPLICATE_BASE_URL: fake.baseUrl } });
    const { status, report } = await read(await health());
    expect(status).toBe(200);
    expect(report).toMatchObject({
      ok: false,
      status: "degraded",
      engines: {
        local: { ok: true },
        replicate: { configured: true, ok: false, error: "Replicate refused the API token." },
      },
    });
    expect(JSON.stringify(report)).not.toContain("r8_wrong_token");
    expect(JSON.stringify(report)).not.toContain("127.0.0.1");
  });

  it("gives up on a Replicate that does not answer, within its time limit", async () => {
    // Accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent!.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
    app = await startAppHarness({ env: { REPLICATE_API_TOKEN: "r8_any", REPLICATE_BASE_URL: baseUrl } });
    const { status, report } = await read(await healthResponse({ timeoutMs: 300 }));
    expect(status).toBe(200);
    expect(report).toMatchObject({
      status: "degraded",
      engines: { replicate: { configured: true, ok: false, error: "Replicate did not answer." } },
    });
  });
});

describe("cachedCheck", () => {
  it("reuses an answer, good or bad, for its time to live, then asks again", async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const check = cachedCheck(
      async () => {
        calls++;
        if (fail) throw new Error("down");
      },
      60_000,
      () => now,
    );
    await check();
    now = 59_999;
    await check();
    expect(calls).toBe(1);
    fail = true;
    now = 60_000;
    await expect(check()).rejects.toThrow("down");
    now = 90_000;
    await expect(check()).rejects.toThrow("down");
    expect(calls).toBe(2);
  });
});
