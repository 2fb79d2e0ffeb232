import { mkdtempSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { freePort, runAppServerToExit, startAppServer, type AppServer } from "./support/app-server";

/**
 * The embedded store on a bad day, with the real server process (`next start`): the leftovers of
 * torn writes beside every kind of file and a damaged session secret, a job file that cannot be
 * read, and a second process on the same data directory. No job, no video and no ownership is
 * lost, and what cannot be read is reported, not taken for absent.
 */

let servers: AppServer[] = [];
test.afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
});

async function start(port: number, dataDir: string): Promise<AppServer> {
  const server = await startAppServer(port, { DATA_DIR: dataDir });
  servers.push(server);
  return server;
}

async function stop(server: AppServer): Promise<void> {
  await server.kill();
  servers = servers.filter((s) => s !== server);
}

/** Makes a local preview video from the home page and waits until it plays; the job's id. */
async function finishedVideo(page: Page, origin: string): Promise<string> {
  await page.goto(`${origin}/`);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("A lighthouse in a storm, waves breaking");
  await page.getByLabel("Model").selectOption("local/preview");
  await page.getByLabel("Length").selectOption("6");
  await page.getByLabel("Resolution").selectOption("480p");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  await expectPlayingVideo(page);
  return page.url().split("/").pop()!;
}

async function expectPlayingVideo(page: Page): Promise<void> {
  const video = page.locator("video");
  await expect(video).toBeVisible({ timeout: 90_000 });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
}

/** Every file under `dir`, relative. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

type Health = { status: string; store: { ok: boolean; unreadable?: number } };
const health = async (origin: string) => (await (await fetch(`${origin}/api/health`)).json()) as Health;

test("torn writes of every kind of file and a damaged secret: no job, video or ownership lost", async ({ page }) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-torn-"));
  const port = await freePort();
  let server = await start(port, dataDir);
  const id = await finishedVideo(page, server.origin);
  await expect(page.getByRole("button", { name: "Delete" })).toBeVisible();
  await stop(server);

  // What a crash in the middle of writing leaves: half of a new version beside each file
  // (the job, its index entry's source, both secrets, the counters, the dedupe marks)...
  const stored = (await filesUnder(dataDir)).filter((f) => f.endsWith(".json") && !f.startsWith("videos/"));
  const kinds = new Set(stored.map((f) => f.split("/")[0]));
  expect([...kinds].sort()).toEqual(expect.arrayContaining(["counters", "jobs", "marks", "secrets"]));
  for (const file of stored) {
    const text = await readFile(path.join(dataDir, file), "utf8");
    await writeFile(path.join(dataDir, `${file}.5eed5eed5eed.tmp`), text.slice(0, Math.ceil(text.length / 2)));
  }
  // ...and the session secret's file itself cut off, as a write without fsync can leave it after a power cut.
  const secretFile = path.join(dataDir, "secrets", "session.json");
  await writeFile(secretFile, (await readFile(secretFile, "utf8")).slice(0, 12));

  server = await start(port, dataDir);
  await page.reload();
  await expectPlayingVideo(page);
  // Still this browser's job: the owner's controls are there, and it is in "Your videos".
  await expect(page.getByRole("button", { name: "Delete" })).toBeVisible();
  await page.goto(`${server.origin}/history`);
  await expect(page.locator(`a[href="/jobs/${id}"]`).first()).toBeVisible();
  // The damaged secret file was repaired from its copy, and what was set aside is reported.
  expect(await health(server.origin)).toMatchObject({ status: "degraded", store: { ok: true, unreadable: 1 } });
  expect((await filesUnder(path.join(dataDir, "quarantine"))).map((f) => f.split("/")[0])).toEqual(["secrets"]);

  // And the next video works, from the same browser.
  await finishedVideo(page, server.origin);
});

test("an unreadable job file: set aside and reported, the page honest, the webhook 500, the video kept", async ({
  page,
}) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-unreadable-"));
  const port = await freePort();
  let server = await start(port, dataDir);
  const id = await finishedVideo(page, server.origin);
  await stop(server);

  const jobFile = path.join(dataDir, "jobs", `${id}.json`);
  await writeFile(jobFile, (await readFile(jobFile, "utf8")).slice(0, 200));

  server = await start(port, dataDir);
  await page.reload();
  await expect(page.getByRole("heading", { name: /record cannot be read right now/ })).toBeVisible();
  await expect(page.getByText(/Nothing was deleted/)).toBeVisible();
  await expect(page.getByText(/could not find/i)).toHaveCount(0);

  expect(await health(server.origin)).toMatchObject({ status: "degraded", store: { ok: true, unreadable: 1 } });
  expect(await filesUnder(path.join(dataDir, "quarantine"))).toEqual([
    expect.stringMatching(new RegExp(`^jobs/${id}\\.`)),
  ]);

  // A delivery for it, signed with the local engine's secret: 500, so that the engine retries, not 200 "unknown job".
  const { value: secret } = JSON.parse(await readFile(path.join(dataDir, "secrets", "local-webhook.json"), "utf8")) as {
    value: string;
  };
  const body = JSON.stringify({ id: "lp_late", status: "processing", logs: "" });
  const msgId = `msg_${Date.now()}`;
  const at = new Date();
  const delivery = await fetch(`${server.origin}/api/webhook?job=${id}&step=generate&attempt=1`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": msgId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(msgId, at, body),
    },
    body,
  });
  expect(delivery.status).toBe(500);

  // The video is still on disk. While its record (and so its owner) cannot be read, it is served to
  // nobody: its owner is told the record cannot be read, anyone else gets the 404 of no job.
  const videos = await filesUnder(path.join(dataDir, "videos", id));
  expect(videos.filter((f) => f.endsWith(".mp4"))).toHaveLength(1);
  const fileUrl = `${server.origin}/api/files/${id}/${videos.find((f) => f.endsWith(".mp4"))}`;
  const file = await page.request.get(fileUrl);
  expect(file.status()).toBe(500);
  expect(((await file.json()) as { error: { message: string } }).error.message).toMatch(/cannot be read right now/);
  expect((await fetch(fileUrl)).status).toBe(404);
});

test("a second process on the same data directory refuses to start, saying why and what to do", async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-second-"));
  const first = await start(await freePort(), dataDir);

  const second = await runAppServerToExit(await freePort(), { DATA_DIR: dataDir });
  expect(second.code).toBe(1);
  expect(second.output).toContain("is using the data directory");
  expect(second.output).toContain(dataDir);
  expect(second.output).toMatch(/one process only/);
  expect(second.output).toMatch(/REDIS_URL/);
  // The first one goes on as if nothing happened.
  expect((await fetch(`${first.origin}/api/health`)).status).toBe(200);

  // Once the first is gone (kill -9: its lock stays behind), a new process takes the lock over.
  await stop(first);
  const next = await start(await freePort(), dataDir);
  expect((await fetch(`${next.origin}/api/health`)).status).toBe(200);
});
