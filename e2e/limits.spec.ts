import { mkdtempSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startFakeReplicate, type FakeReplicate } from "../test/support/fake-replicate";
import { expectVideoSaved, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";
import { stopAfterEach } from "./support/stop-after-each";

/**
 * Who the client is, against the real `next start`: the per-network limit counts the address of
 * the connection, not an X-Forwarded-For the client makes up, unless TRUST_PROXY says a proxy
 * writes it; and the job page falls back to polling when the stream cap refuses it.
 */

let server: AppServer | undefined;
let fake: FakeReplicate | undefined;

stopAfterEach(
  () => server,
  () => fake,
);

const JOB = { prompt: "a paper boat on a rainy street", style: "anime", model: "local/preview" };

async function start(env: Record<string, string>): Promise<AppServer> {
  server = await startAppServer(await freePort(), {
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "p2v-e2e-limits-")),
    RATE_LIMIT_PER_IP_PER_HOUR: "3",
    ...env,
  });
  return server;
}

/** POST /api/jobs without a cookie, claiming to come from `forwardedFor`. */
async function postJob(origin: string, forwardedFor: string): Promise<Response> {
  return fetch(`${origin}/api/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: JSON.stringify(JOB),
  });
}

test("without TRUST_PROXY, a new X-Forwarded-For on each cookie-less request makes at most the limit of jobs, in the API and the form", async ({
  browser,
}) => {
  const { origin } = await start({});
  const statuses: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const res = await postJob(origin, `203.0.113.${i}`);
    statuses.push(res.status);
    if (res.status === 429) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      const { error } = (await res.json()) as { error: { message: string } };
      expect(error.message).toMatch(/^Your network has made its 3 videos for the hour; you can make another in .+\.$/);
    }
  }
  expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);

  // The form's server action counts the same address: a fresh browser with a made-up header is refused too.
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": "198.51.100.77" } });
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a lighthouse beam sweeping through fog");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(
    page
      .getByRole("status")
      .filter({ hasText: /^Your network has made its 3 videos for the hour; you can make another in .+\.$/ }),
  ).toBeVisible();
  await expect(page).not.toHaveURL(/\/jobs\//);
  await context.close();
});

test("with TRUST_PROXY=1, the limit counts per forwarded address, the one the proxy appended", async () => {
  const { origin } = await start({ TRUST_PROXY: "1" });
  const statuses = async (forwardedFor: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await postJob(origin, forwardedFor)).status);
    return out;
  };
  expect(await statuses("198.51.100.1", 4)).toEqual([201, 201, 201, 429]);
  // What the client wrote itself stays on the left; the proxy's entry (the last) is the client.
  expect(await statuses("6.6.6.6, 198.51.100.1", 1)).toEqual([429]);
  expect(await statuses("198.51.100.2", 1)).toEqual([201]);
});

test("over the open-stream cap, the job page is told to poll and follows the job by polling until the video", async ({
  page,
}) => {
  fake = await startFakeReplicate({ timing: { startingMs: 200, processingMs: 10 * 60_000, ticks: 1 } });
  const { origin } = await start({
    EVENT_STREAMS_PER_CLIENT: "1",
    // The polling page drives reconciliation (no webhooks without APP_URL): ask Replicate soon.
    RECONCILE_AFTER_SECONDS: "1",
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_BASE_URL: fake.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
  });
  // A job that runs until the test ends it, made by this browser (its cookie is the owner's).
  // Enhance off (the API defaults it on, as the form does): the video model's run is the only one.
  const created = await page.request.post(`${origin}/api/jobs`, {
    data: { ...JOB, model: "wan-video/wan-2.2-t2v-fast", enhance: false },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const cookie = (await page.context().cookies(origin)).map((c) => `${c.name}=${c.value}`).join("; ");

  // This address's one stream, held open from here.
  const held = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http
      .get(`${origin}/api/events/${id}`, { headers: { cookie, accept: "text/event-stream" }, agent: false }, resolve)
      .on("error", reject);
  });
  expect(held.statusCode).toBe(200);
  held.resume();

  const events: number[] = [];
  const polls: number[] = [];
  page.on("response", (res) => {
    const p = new URL(res.url()).pathname;
    if (p.startsWith("/api/events/")) events.push(res.status());
    if (p.startsWith("/api/status/")) polls.push(res.status());
  });
  await page.goto(`${origin}/jobs/${id}`);
  await expect.poll(() => events).toEqual([429]);
  await expect.poll(() => polls.length).toBeGreaterThan(0);

  // The held stream's client goes away: its slot comes back (each probe lets go of its own too).
  held.destroy();
  const probe = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(
        `${origin}/api/events/${id}`,
        { headers: { cookie, accept: "text/event-stream" }, agent: false },
        (res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on("error", reject);
    });
  await expect.poll(probe).toBe(200);

  // The job ends upstream: the polling page shows the video.
  const prediction = [...fake.predictions.values()][0]!;
  fake.complete(prediction.prediction.id);
  await expectVideoSaved(page, 60_000);
  expect(polls.every((s) => s === 200 || s === 304)).toBe(true);
  expect(events).toEqual([429]);
});
